package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// connector dials lean connections. Against a loopback server it moves to
// the next source address (127.0.0.2, .3, …) when the current one has no
// ephemeral port left, so one machine can hold more connections than one
// address has ports.
type connector struct {
	base     string
	loopback bool

	mu    sync.Mutex
	cur   *dialer
	host  byte // last byte of the current source address, 0: system choice
	addrs int  // source addresses used
}

func newConnector(base string) *connector {
	c := &connector{base: base, cur: newDialer(""), addrs: 1}
	if u, err := url.Parse(base); err == nil {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil {
			c.loopback = true
		} else if u.Hostname() == "localhost" {
			c.loopback = true
		}
	}
	return c
}

func (c *connector) dialer() *dialer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// advance moves past d's source address, unless another goroutine already
// did. It fails when 127.0.0.254 is used up.
func (c *connector) advance(d *dialer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != d {
		return nil
	}
	if c.host == 0 {
		c.host = 1 // the system's choice was 127.0.0.1
	}
	if c.host >= 254 {
		return fmt.Errorf("no ephemeral ports left on 127.0.0.1-254")
	}
	c.host++
	c.cur = newDialer(fmt.Sprintf("127.0.0.%d", c.host))
	c.addrs++
	return nil
}

// sources is how many source addresses were used.
func (c *connector) sources() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs
}

func (c *connector) dial(ctx context.Context, token string) (*lean, error) {
	for {
		d := c.dialer()
		l, err := dialLean(ctx, d, c.base, token)
		if err == nil {
			return l, nil
		}
		if c.loopback && (errNoPorts(err) || strings.Contains(err.Error(), "cannot assign requested address")) {
			if aerr := c.advance(d); aerr != nil {
				return nil, aerr
			}
			continue
		}
		return nil, err
	}
}

// connectors are one connector per node: connection i dials node i mod n.
type connectors []*connector

func (e *env) connectors() connectors {
	n := max(1, len(e.Nodes))
	out := make(connectors, n)
	for i := range out {
		out[i] = newConnector(e.urlFor(i))
	}
	return out
}

func (cs connectors) dial(ctx context.Context, i int, token string) (*lean, error) {
	return cs[i%len(cs)].dial(ctx, token)
}

// sources is how many source addresses were used, over all nodes.
func (cs connectors) sources() int {
	n := 0
	for _, c := range cs {
		n += c.sources()
	}
	return n
}

// connectAll opens one lean connection per token, concurrency at a time,
// the i-th to node i mod n. If hs is not nil it gets each handshake's time
// (dial to hello).
func (e *env) connectAll(ctx context.Context, cn connectors, tokens []string, concurrency int, hs *Hist) ([]*lean, error) {
	conns := make([]*lean, len(tokens))
	var done atomic.Int64
	var mu sync.Mutex
	stop := e.progress("connections", &done, len(tokens))
	defer stop()
	err := parallel(ctx, len(tokens), concurrency, func(ctx context.Context, i int) error {
		start := time.Now()
		l, err := cn.dial(ctx, i, tokens[i])
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		if hs != nil {
			mu.Lock()
			hs.Add(time.Since(start))
			mu.Unlock()
		}
		conns[i] = l
		done.Add(1)
		return nil
	})
	if err != nil {
		closeAll(conns)
		return nil, err
	}
	return conns, nil
}

func closeAll(conns []*lean) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, l := range conns {
		if l == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			l.close()
		})
	}
	wg.Wait()
}

// stream is one connection sending to one conversation at a fixed rate.
type stream struct {
	conn   *lean
	convID int64
	rate   float64 // messages per second
}

// traffic is what a drive saw.
type traffic struct {
	sent, acked, failed, delivered, expected int64
	sendErrors                               int64
	late                                     int64 // sends more than 10 ms behind schedule
	maxLate                                  time.Duration
	lat, ack                                 Hist
	disconnected                             int
	failure                                  string
	sendTime, drainTime                      time.Duration
	server, self                             procUsage
	machine                                  float64 // % of one core, -1: unknown
}

// drive makes every stream send at its rate for d (open loop: a send never
// waits for an earlier one's reply), then waits up to drain for every reply
// and every delivery: each message is expected perMsg times across conns.
// tag marks this run's messages; pad is their filler text.
func (e *env) drive(ctx context.Context, conns []*lean, streams []stream, perMsg int, d, drain time.Duration, tag, pad string) traffic {
	var t traffic
	for _, l := range conns {
		l.reset(tag)
	}
	e.waitQuiet(ctx)
	var sent, sendErrs, late atomic.Int64
	var maxLate atomic.Int64
	srv := watchProcs(e.pids(), 500*time.Millisecond)
	self := watchProc(os.Getpid(), 500*time.Millisecond)
	mach := watchMachine()
	start := time.Now().Add(100 * time.Millisecond)
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, s := range streams {
		wg.Go(func() {
			interval := time.Duration(float64(time.Second) / s.rate)
			at := start.Add(time.Duration(rand.Int64N(int64(interval)))) // spread the phases
			for ; at.Before(end) && ctx.Err() == nil; at = at.Add(interval) {
				if w := time.Until(at); w > 0 {
					time.Sleep(w)
				}
				now := time.Now()
				if behind := now.Sub(at); behind > 10*time.Millisecond {
					late.Add(1)
					for {
						m := maxLate.Load()
						if int64(behind) <= m || maxLate.CompareAndSwap(m, int64(behind)) {
							break
						}
					}
				}
				if err := s.conn.send(ctx, s.convID, tag, pad, now); err != nil {
					sendErrs.Add(1)
					return // the connection is gone
				}
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	t.sendTime = time.Since(start)
	t.sent, t.sendErrors, t.late, t.maxLate = sent.Load(), sendErrs.Load(), late.Load(), time.Duration(maxLate.Load())
	t.expected = t.sent * int64(perMsg)

	// Drain: every reply and every delivery, or the deadline.
	drainStart := time.Now()
	deadline := drainStart.Add(drain)
	for {
		var del, ack, fail int64
		for _, l := range conns {
			a, b, c := l.counts()
			del, ack, fail = del+a, ack+b, fail+c
		}
		t.delivered, t.acked, t.failed = del, ack, fail
		if (ack+fail >= t.sent && del >= t.expected) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.drainTime = time.Since(drainStart)
	t.server, t.self = srv.end(), self.end()
	t.machine = -1
	if m, ok := mach.busyPercent(); ok {
		t.machine = m
	}
	for _, l := range conns {
		l.mu.Lock()
		if l.lat != nil {
			t.lat.Merge(l.lat)
			t.ack.Merge(l.ack)
		}
		if t.failure == "" && l.failure != "" {
			t.failure = l.failure
		}
		l.mark, l.lat, l.ack = nil, nil, nil
		l.mu.Unlock()
		if !l.alive() {
			t.disconnected++
		}
	}
	return t
}

// report adds a drive's figures to r and judges completeness: every send
// acknowledged, every acknowledged message stored (stored < 0: not
// checked) and delivered to every connection expected.
func (t *traffic) report(r *Result, stored int64) {
	secs := t.sendTime.Seconds()
	r.fig("sent", t.sent, "")
	r.fig("send rate", round(float64(t.sent)/secs, 1), "msg/s")
	r.fig("acknowledged", t.acked, "")
	if t.failed > 0 {
		r.fig("refused", t.failed, "")
	}
	if stored >= 0 {
		r.fig("stored", stored, "")
	}
	r.fig("delivered", t.delivered, "")
	r.fig("expected", t.expected, "")
	r.fig("delivered/expected", round(float64(t.delivered)/float64(max(t.expected, 1)), 4), "")
	r.fig("deliveries/s", round(float64(t.delivered)/secs, 0), "")
	r.latency("latency", &t.lat)
	r.latency("ack", &t.ack)
	r.fig("drain", ms(t.drainTime), "ms")
	r.usage(t.server)
	if t.server.ok && t.delivered > 0 {
		cpu := t.server.cpuPct / 100 * (t.sendTime + t.drainTime).Seconds()
		r.fig("server CPU per delivery", round(cpu/float64(t.delivered)*1e6, 2), "µs")
	}
	if t.self.ok {
		r.fig("bench CPU", round(t.self.cpuPct, 1), "%")
	}
	r.machine(t.machine, t.server, t.self)
	if t.late > 0 {
		r.fig("late sends", t.late, "")
		r.fig("max lateness", ms(t.maxLate), "ms")
		r.note("late sends: the generator sent that many messages more than 10 ms after their scheduled time (it was short of CPU); latency is measured from the actual send")
	}

	r.Complete = true
	fail := func(format string, args ...any) {
		r.Complete = false
		r.problem(format, args...)
	}
	if t.sendErrors > 0 {
		fail("%d sends could not be written (connection lost)", t.sendErrors)
	}
	if t.failed > 0 {
		fail("%d sends refused by the server (first: %s)", t.failed, t.failure)
	}
	if t.acked+t.failed < t.sent {
		fail("%d sends never acknowledged", t.sent-t.acked-t.failed)
	}
	if stored >= 0 && stored != t.acked {
		fail("%d messages stored (history via REST), %d acknowledged", stored, t.acked)
	}
	if t.delivered < t.expected {
		fail("%d of %d deliveries missing", t.expected-t.delivered, t.expected)
	} else if t.delivered > t.expected {
		fail("%d deliveries more than expected (duplicates)", t.delivered-t.expected)
	}
	if t.disconnected > 0 {
		fail("%d connections closed during the run", t.disconnected)
	}
}
