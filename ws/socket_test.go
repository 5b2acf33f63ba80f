package ws

import (
	"net"
	"testing"
	"time"
)

// TestSocketWriterGathers: between gather and flush, writes are collected
// and reach the socket as one write; otherwise they go straight through.
func TestSocketWriterGathers(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	w := &socketWriter{conn: server}
	got := make(chan string, 4)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- string(buf[:n])
		}
	}()
	next := func() string {
		select {
		case s := <-got:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("nothing written")
			return ""
		}
	}

	w.gather()
	w.Write([]byte("header|"))
	w.Write([]byte("payload"))
	select {
	case s := <-got:
		t.Fatalf("wrote %q before flush", s)
	case <-time.After(20 * time.Millisecond):
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if s := next(); s != "header|payload" {
		t.Errorf("gathered write %q", s)
	}
	w.Write([]byte("pong"))
	if s := next(); s != "pong" {
		t.Errorf("write-through %q", s)
	}
	server.Close()
}
