package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/testwait"
)

// TestWriteTextReadByClient: messages the writer frames itself (every
// length form of the header, one frame or many joined by '\n', payloads
// past the socket's buffers) are read by a real WebSocket client as the
// same text, in order, with pings and their pongs in between.
func TestWriteTextReadByClient(t *testing.T) {
	ctx, client, c := dialSocket(t)
	client.SetReadLimit(16 << 20)
	go c.ws.Read(ctx) // the server's reader: answers the client's pings

	var batches [][][]byte
	for _, n := range []int{1, 125, 126, 127, 65535, 65536, 70000, 3 << 20} {
		batches = append(batches, [][]byte{bytes.Repeat([]byte{'a' + byte(n%26)}, n)})
	}
	var many [][]byte
	for i := range 500 {
		many = append(many, fmt.Appendf(nil, `{"ev":"n","i":%d}`, i))
	}
	batches = append(batches, many, [][]byte{[]byte("x"), bytes.Repeat([]byte("y"), 200000), []byte("z")})

	written := make(chan error, 1)
	go func() {
		for _, b := range batches {
			if err := c.write(b); err != nil {
				written <- err
				return
			}
			// A control frame from another goroutine between messages.
			if err := c.ws.Ping(ctx); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	pings := make(chan error, 1)
	go func() { // the client's pings, answered by the server while it writes
		for range 20 {
			if err := client.Ping(ctx); err != nil {
				pings <- err
				return
			}
		}
		pings <- nil
	}()
	for i, b := range batches {
		typ, msg, err := client.Read(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != websocket.MessageText {
			t.Errorf("message %d: type %v", i, typ)
		}
		if want := bytes.Join(b, []byte{'\n'}); !bytes.Equal(msg, want) {
			t.Fatalf("message %d: %d bytes, want %d", i, len(msg), len(want))
		}
	}
	client.CloseRead(ctx) // reads on: the last pongs and pings
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := <-pings; err != nil {
		t.Fatal(err)
	}
}

// TestNoDataAfterClose: once the close frame has gone out, the writer
// writes no more data: the client reads the close code, and the write
// fails.
func TestNoDataAfterClose(t *testing.T) {
	ctx, client, c := dialSocket(t)

	if err := c.write([][]byte{[]byte("before")}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- c.ws.Close(CloseSlowConsumer, "too slow") }()
	if _, msg, err := client.Read(ctx); err != nil || string(msg) != "before" {
		t.Fatalf("read %q, %v", msg, err)
	}
	// The close frame is on its way; coder/websocket waits for the
	// client's answer, which the client's next read sends.
	testwait.For(t, 10*time.Second, func() bool {
		c.sock.mu.Lock()
		defer c.sock.mu.Unlock()
		return c.sock.closeSent
	}, "close frame not written")
	if err := c.write([][]byte{[]byte("after")}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after the close frame: %v", err)
	}
	_, msg, err := client.Read(ctx)
	if code := websocket.CloseStatus(err); code != CloseSlowConsumer {
		t.Fatalf("read %q, %v; want close %d", msg, err, CloseSlowConsumer)
	}
	<-closed
}

// TestTextHeader: the header's three length forms (RFC 6455, 5.2).
func TestTextHeader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "81 00"}, {125, "81 7d"}, {126, "81 7e 00 7e"}, {65535, "81 7e ff ff"},
		{65536, "81 7f 00 00 00 00 00 01 00 00"},
	} {
		got := fmt.Sprintf("% x", appendTextHeader(nil, tc.n))
		if got != tc.want {
			t.Errorf("%d: %s, want %s", tc.n, got, tc.want)
		}
	}
}

// TestWriteTextSameBytesAsLibrary: a message the writer frames itself is,
// byte for byte, what coder/websocket writes for the same text: clients
// cannot tell them apart.
func TestWriteTextSameBytesAsLibrary(t *testing.T) {
	c, raw := socketPair(t)
	defer c.ws.CloseNow()
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	for _, n := range []int{1, 125, 126, 65535, 65536, 200000} {
		msg := bytes.Repeat([]byte{'m'}, n)
		if err := c.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		if err := c.write([][]byte{msg}); err != nil {
			t.Fatal(err)
		}
		want := make([]byte, len(appendTextHeader(nil, n))+n)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(raw, want); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(raw, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d bytes: header % x, coder/websocket's % x", n, got[:10], want[:10])
		}
	}
}

// dialSocket connects a real WebSocket client to socketServer and returns
// a context that ends with the test (at most 20 s), the client and the
// server's Conn; both are closed when the test ends.
func dialSocket(t *testing.T) (context.Context, *websocket.Conn, *Conn) {
	t.Helper()
	addr, got := socketServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	client, _, err := websocket.Dial(ctx, "ws://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	c := <-got
	t.Cleanup(func() { c.ws.CloseNow() })
	return ctx, client, c
}
