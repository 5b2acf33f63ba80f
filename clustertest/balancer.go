package clustertest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Balancer is a TCP load balancer on loopback, as simple as they come:
// each new connection goes to the next backend in turn (round robin), and
// a backend that refuses the connection is skipped for the next one. It
// knows nothing of HTTP or WebSockets and keeps no session affinity, as
// Parley needs none: a client whose node dies reconnects through the
// Balancer and lands on a live one.
//
// With all backends up and no other traffic, connection k goes to backend
// k mod n, which lets a test spread clients evenly.
type Balancer struct {
	ln net.Listener

	mu       sync.Mutex
	backends []string
	next     int
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// NewBalancer starts a balancer in front of backends (host:port). It stops
// with the test.
func NewBalancer(t testing.TB, backends ...string) *Balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Balancer{ln: ln, backends: backends, conns: make(map[net.Conn]struct{})}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.Close)
	return b
}

// URL is the balancer's http:// URL.
func (b *Balancer) URL() string { return "http://" + b.ln.Addr().String() }

// Close stops accepting, cuts every connection and waits for the
// balancer's goroutines.
func (b *Balancer) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.ln.Close()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Balancer) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		start, n := b.next, len(b.backends)
		b.next = (b.next + 1) % max(n, 1)
		order := make([]string, 0, n)
		for i := range n {
			order = append(order, b.backends[(start+i)%n])
		}
		b.wg.Add(1)
		b.mu.Unlock()
		go b.forward(c, order)
	}
}

// forward connects c to the first backend of order that answers.
func (b *Balancer) forward(c net.Conn, order []string) {
	defer b.wg.Done()
	var up net.Conn
	for _, addr := range order {
		var err error
		if up, err = net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			break
		}
	}
	if up == nil {
		c.Close()
		return
	}
	if !b.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	wg.Add(2)
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
	b.mu.Lock()
	delete(b.conns, c)
	delete(b.conns, up)
	b.mu.Unlock()
}

func (b *Balancer) track(cs ...net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	for _, c := range cs {
		b.conns[c] = struct{}{}
	}
	return true
}
