package ws

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/hub"
)

// processCPU is this process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// socketServer serves WebSocket upgrades the way Server does (through
// hijacker) and hands each upgraded connection over as a Conn with no
// writer running. It returns the server's address.
func socketServer(tb testing.TB) (string, <-chan *Conn) {
	tb.Helper()
	got := make(chan *Conn, 1)
	done := make(chan struct{})
	bus := hub.NewBus()
	tb.Cleanup(func() { bus.Close() })
	srv := NewServer(nil, hub.NewRegistry(bus, nil), nil, Config{}, nil)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &hijacker{ResponseWriter: w}
		wsc, err := websocket.Accept(hj, r, nil)
		if err != nil {
			tb.Error(err)
			return
		}
		c := newConn(srv, wsc, parley.User{ID: 1}, parley.Session{ID: 1}, "b-1")
		c.sock = hj.sock
		got <- c
		<-done
		wsc.CloseNow()
	}))
	tb.Cleanup(func() { close(done); hs.Close() })
	return strings.TrimPrefix(hs.URL, "http://"), got
}

// socketPair is socketServer's Conn and the client's raw TCP connection,
// past the handshake.
func socketPair(tb testing.TB) (*Conn, net.Conn) {
	tb.Helper()
	addr, got := socketServer(tb)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	fmt.Fprintf(raw, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	var head bytes.Buffer
	buf := make([]byte, 1)
	for !bytes.HasSuffix(head.Bytes(), []byte("\r\n\r\n")) {
		if _, err := raw.Read(buf); err != nil {
			tb.Fatal(err)
		}
		head.Write(buf)
	}
	return <-got, raw
}

// BenchmarkWriteBatch is one flush of a connection's writer under fan-out:
// a batch of n queued events (about 400 bytes each, as a group's message
// events) written to a real loopback socket as one WebSocket message. The
// client side reads and discards in this process. cpu-ns/op is the
// process's CPU time (both ends, kernel included) per batch.
func BenchmarkWriteBatch(b *testing.B) {
	for _, n := range []int{1, 40, 400} {
		b.Run(fmt.Sprintf("frames=%d", n), func(b *testing.B) {
			c, raw := socketPair(b)
			go io.Copy(io.Discard, raw)
			frame := []byte(`{"ev":"message","change":"new","message":{"id":123456,"conversation_id":7,"seq":123456,"mod":123456,"sender_id":42,` +
				`"sender":{"id":42,"username":"member42","display_name":"Member 42"},"client_msg_id":"c-123456","kind":"text",` +
				`"text":"~abcdef 1765012345678901234 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",` +
				`"created_at":"2026-12-06T09:45:45.123456Z"}}`)
			batch := make([][]byte, n)
			for i := range batch {
				batch[i] = frame
			}
			b.SetBytes(int64(n * (len(frame) + 1)))
			cpu0 := processCPU()
			for b.Loop() {
				if err := c.write(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// discardConn is a socket that takes every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkQueueCycle is one write interval of a connection under fan-out,
// socket aside: frames events are queued while no writer runs, then a
// writer starts, writes them as one message (to a socket that takes
// everything) and ends, finding the queue empty. ns/frame is per event.
func BenchmarkQueueCycle(b *testing.B) {
	for _, frames := range []int{40, 100, 400} {
		b.Run(fmt.Sprintf("frames=%d", frames), func(b *testing.B) {
			bus := hub.NewBus()
			defer bus.Close()
			srv := NewServer(nil, hub.NewRegistry(bus, nil), nil, Config{WriteInterval: -1}, nil)
			c := newConn(srv, nil, parley.User{ID: 1}, parley.Session{ID: 1}, "q-1")
			c.sock = &socketWriter{conn: discardConn{}}
			frame := bytes.Repeat([]byte("x"), 400)
			b.ReportAllocs()
			for b.Loop() {
				c.holdWrites()
				c.mu.Lock()
				for range frames {
					c.enqueueLocked(frame, 1000, 0)
				}
				c.mu.Unlock()
				c.releaseWrites()
				c.writers.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(frames), "ns/frame")
		})
	}
}
