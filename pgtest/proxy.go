package pgtest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target (the
// database), and can take the target away as a database restart or a
// network failure would:
//
//   - Down closes the port and every connection through it: clients see
//     their connections break and new ones refused.
//   - Up listens on the same port again.
//   - LoseAnswersTo drops what the target sends on the connection that
//     next carries a given request: it still arrives (a commit commits)
//     but its answer is lost.
//
// Tests use it to fail the database under running nodes without touching
// the database server, which other tests may be using.
type Proxy struct {
	network, target string
	addr            string
	lose            atomic.Pointer[[]byte] // armed by LoseAnswersTo

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to target (network "tcp" or "unix"). It stops
// with the test.
func NewProxy(t testing.TB, network, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{network: network, target: target, addr: ln.Addr().String(), conns: make(map[net.Conn]struct{})}
	p.serve(ln)
	t.Cleanup(func() {
		p.Down()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Down closes the port and cuts every connection. It returns how many
// connections it cut.
func (p *Proxy) Down() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	n := 0
	for c := range p.conns {
		c.Close()
		n++
	}
	return n
}

// Up listens on the proxy's port again.
func (p *Proxy) Up(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	up := p.ln != nil
	p.mu.Unlock()
	if up {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// LoseAnswersTo arms the proxy: the next connection on which the client
// sends pattern (say, a value bound to a query) gets nothing more from the
// target, from that moment until it is cut. Other connections are not
// affected.
func (p *Proxy) LoseAnswersTo(pattern []byte) { p.lose.Store(&pattern) }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go p.forward(ln, c)
		}
	}()
}

// track registers conns, or reports false when the listener that accepted
// them has been closed since.
func (p *Proxy) track(ln net.Listener, cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) forward(ln net.Listener, c net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial(p.network, p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(ln, c, up) {
		c.Close()
		up.Close()
		return
	}
	var (
		wg   sync.WaitGroup
		deaf atomic.Bool // the client hears nothing more
	)
	wg.Add(2)
	go func() { // client → target
		defer wg.Done()
		buf := make([]byte, 32<<10)
		var tail []byte // the end of what came before, for a pattern cut in two
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if pat := p.lose.Load(); pat != nil && !deaf.Load() {
					seen := append(tail, buf[:n]...)
					if bytes.Contains(seen, *pat) && p.lose.CompareAndSwap(pat, nil) {
						deaf.Store(true) // before the request reaches the target
					}
					tail = append(tail[:0], seen[max(0, len(seen)-len(*pat)):]...)
				}
				if _, werr := up.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		up.Close()
		c.Close()
	}()
	go func() { // target → client, unless deaf
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 && !deaf.Load() {
				if _, werr := c.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		up.Close()
		c.Close()
	}()
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}
