package pgtest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target (the
// database, or any other TCP server), and can take the target away as a
// restart or a network failure would:
//
//   - Down closes the port and every connection through it: clients see
//     their connections break and new ones refused.
//   - Up listens on the same port again.
//   - Freeze stops relaying in both directions but keeps every socket
//     open and accepts new connections without relaying them either: a
//     blackhole, as a hung server or a silently dropped route gives.
//     Clients see no error, only silence. Thaw relays again, including
//     what was sent meanwhile.
//   - LoseAnswersTo drops what the target sends on the connection that
//     next carries a given request: it still arrives (a commit commits)
//     but its answer is lost.
//
// Tests use it to fail the database (or a node's NATS link) under running
// nodes without touching the server, which other tests may be using.
type Proxy struct {
	network, target string
	addr            string
	lose            atomic.Pointer[[]byte] // armed by LoseAnswersTo

	mu     sync.Mutex
	ln     net.Listener // nil while down
	links  map[*link]struct{}
	thawed chan struct{} // closed while relaying; open while frozen
	wg     sync.WaitGroup
}

// link is one client connection and, once dialed, its connection to the
// target. cut is closed when the proxy cuts it.
type link struct {
	c, up net.Conn
	cut   chan struct{}
	once  sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.cut)
		l.c.Close()
		if l.up != nil {
			l.up.Close()
		}
	})
}

// NewProxy starts a proxy to target (network "tcp" or "unix"). It stops
// with the test.
func NewProxy(t testing.TB, network, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	thawed := make(chan struct{})
	close(thawed)
	p := &Proxy{network: network, target: target, addr: ln.Addr().String(), links: make(map[*link]struct{}), thawed: thawed}
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
// client connections it cut.
func (p *Proxy) Down() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	n := 0
	for l := range p.links {
		l.close()
		delete(p.links, l)
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

// Freeze stops relaying, in both directions, on every connection and on
// those accepted from now on, keeping them all open. It returns how many
// connections it froze.
func (p *Proxy) Freeze() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
		p.thawed = make(chan struct{})
	default: // frozen already
	}
	return len(p.links)
}

// Thaw relays again what Freeze held.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// wait blocks while the proxy is frozen. It reports false if l was cut
// meanwhile.
func (p *Proxy) wait(l *link) bool {
	p.mu.Lock()
	thawed := p.thawed
	p.mu.Unlock()
	select {
	case <-thawed:
		return true
	case <-l.cut:
		return false
	}
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
			l := &link{c: c, cut: make(chan struct{})}
			if !p.track(ln, l) {
				c.Close()
				continue
			}
			p.wg.Add(1)
			go p.forward(l)
		}
	}()
}

// track registers l, or reports false when the listener that accepted it
// has been closed since.
func (p *Proxy) track(ln net.Listener, l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln {
		return false
	}
	p.links[l] = struct{}{}
	return true
}

func (p *Proxy) untrack(l *link) {
	l.close()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

func (p *Proxy) forward(l *link) {
	defer p.wg.Done()
	defer p.untrack(l)
	if !p.wait(l) { // a frozen proxy does not even dial
		return
	}
	up, err := net.Dial(p.network, p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	select {
	case <-l.cut:
		p.mu.Unlock()
		up.Close()
		return
	default:
		l.up = up
	}
	p.mu.Unlock()
	var (
		wg   sync.WaitGroup
		deaf atomic.Bool // the client hears nothing more
	)
	wg.Add(2)
	go func() { // client → target
		defer wg.Done()
		defer l.close()
		buf := make([]byte, 32<<10)
		var tail []byte // the end of what came before, for a pattern cut in two
		for p.wait(l) {
			n, err := l.c.Read(buf)
			if n > 0 {
				if pat := p.lose.Load(); pat != nil && !deaf.Load() {
					seen := append(tail, buf[:n]...)
					if bytes.Contains(seen, *pat) && p.lose.CompareAndSwap(pat, nil) {
						deaf.Store(true) // before the request reaches the target
					}
					tail = append(tail[:0], seen[max(0, len(seen)-len(*pat)):]...)
				}
				if !p.wait(l) {
					return
				}
				if _, werr := up.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { // target → client, unless deaf
		defer wg.Done()
		defer l.close()
		buf := make([]byte, 32<<10)
		for p.wait(l) {
			n, err := up.Read(buf)
			if n > 0 && !deaf.Load() {
				if !p.wait(l) {
					return
				}
				if _, werr := l.c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	wg.Wait()
}
