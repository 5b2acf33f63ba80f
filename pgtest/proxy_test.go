package pgtest_test

import (
	"bufio"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"parley/pgtest"
)

// echo is a TCP server that sends back every line it reads.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					if _, err := c.Write(line); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

type peer struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *peer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{c: c, r: bufio.NewReader(c)}
}

func (p *peer) say(t *testing.T, s string) {
	t.Helper()
	if _, err := p.c.Write([]byte(s + "\n")); err != nil {
		t.Fatal(err)
	}
}

// hear reads one line, waiting at most d.
func (p *peer) hear(d time.Duration) (string, error) {
	p.c.SetReadDeadline(time.Now().Add(d))
	line, err := p.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return line[:len(line)-1], nil
}

func wantLine(t *testing.T, p *peer, want string) {
	t.Helper()
	got, err := p.hear(10 * time.Second)
	if err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// wantSilence checks that nothing arrives for a while and the connection
// stays open.
func wantSilence(t *testing.T, p *peer) {
	t.Helper()
	got, err := p.hear(200 * time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("while frozen: got %q, %v; want silence", got, err)
	}
}

// A frozen proxy relays nothing, either way, on connections open before
// and after the freeze, and keeps them open; thawed, it delivers what was
// held, in order.
func TestProxyFreeze(t *testing.T) {
	px := pgtest.NewProxy(t, "tcp", echo(t))
	old := dial(t, px.Addr())
	old.say(t, "before")
	wantLine(t, old, "before")

	if n := px.Freeze(); n != 1 {
		t.Errorf("Freeze froze %d connections, want 1", n)
	}
	old.say(t, "held 1")
	old.say(t, "held 2")
	wantSilence(t, old)
	fresh := dial(t, px.Addr()) // accepted, not relayed
	fresh.say(t, "new while frozen")
	wantSilence(t, fresh)

	px.Thaw()
	wantLine(t, old, "held 1")
	wantLine(t, old, "held 2")
	wantLine(t, fresh, "new while frozen")
	old.say(t, "after")
	wantLine(t, old, "after")
}

// Down cuts frozen connections too, and the proxy stops with the test
// even when left frozen.
func TestProxyDownWhileFrozen(t *testing.T) {
	px := pgtest.NewProxy(t, "tcp", echo(t))
	p := dial(t, px.Addr())
	p.say(t, "hello")
	wantLine(t, p, "hello")
	px.Freeze()
	p.say(t, "lost")
	if n := px.Down(); n != 1 {
		t.Errorf("Down cut %d connections, want 1", n)
	}
	if got, err := p.hear(10 * time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after Down: got %q, %v; want the connection closed", got, err)
	}
}
