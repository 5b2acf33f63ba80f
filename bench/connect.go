package bench

import (
	"context"
	"time"
)

// ConnectConfig sets up the connect scenario: many idle, authenticated
// WebSocket connections.
type ConnectConfig struct {
	Conns       int           // connections (default 19,000)
	PerUser     int           // connections per user (default 19; the server allows 20)
	Concurrency int           // handshakes in flight (default 100)
	Settle      time.Duration // wait before measuring memory (default 5 s)
	Hold        time.Duration // how long the connections stay open, measured after settling (default 10 s)
}

func (c *ConnectConfig) defaults() {
	if c.Conns <= 0 {
		c.Conns = 19000
	}
	if c.PerUser <= 0 {
		c.PerUser = 19
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 100
	}
	if c.Settle <= 0 {
		c.Settle = 5 * time.Second
	}
	if c.Hold <= 0 {
		c.Hold = 10 * time.Second
	}
}

var memMetrics = []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "process_resident_memory_bytes"}

// Connect opens the connections, measures the server's memory per
// connection, holds them open and closes them.
func Connect(ctx context.Context, t Target, cfg ConnectConfig) (*Result, error) {
	cfg.defaults()
	e := newEnv(t)
	defer e.close()
	nUsers := (cfg.Conns + cfg.PerUser - 1) / cfg.PerUser
	e.logf("connect: setting up %d users for %d connections (run %s)", nUsers, cfg.Conns, e.run)
	users, err := e.users(ctx, "c", nUsers)
	if err != nil {
		return nil, err
	}
	tokens := make([]string, cfg.Conns)
	for i := range tokens {
		tokens[i] = users[i/cfg.PerUser].c.Token()
	}
	r := &Result{Scenario: "connect", Started: time.Now()}
	r.param("connections", cfg.Conns, "")
	r.param("users", nUsers, "")
	r.param("concurrency", cfg.Concurrency, "")

	sleep(ctx, 2*time.Second)
	e.waitQuiet(ctx)
	before, _ := readProc(e.PID)
	mBefore := e.serverMetrics(ctx, memMetrics...)

	e.logf("connect: opening %d connections", cfg.Conns)
	cn := e.connectors()
	var hs Hist
	start := time.Now()
	conns, err := e.connectAll(ctx, cn, tokens, cfg.Concurrency, &hs)
	if err != nil {
		return nil, err
	}
	took := time.Since(start)
	defer func() { closeAll(conns) }()
	r.fig("connected", len(conns), "")
	r.fig("connect time", round(took.Seconds(), 2), "s")
	r.fig("connects/s", round(float64(len(conns))/took.Seconds(), 0), "")
	r.latency("handshake", &hs)
	r.fig("source addresses", cn.sources(), "")

	e.logf("connect: settling %s", cfg.Settle)
	sleep(ctx, cfg.Settle)
	after, _ := readProc(e.PID)
	mAfter := e.serverMetrics(ctx, memMetrics...)
	n := float64(len(conns))
	if e.PID != 0 && before.rss > 0 && after.rss > 0 {
		r.fig("server RSS before", mib(before.rss), "MiB")
		r.fig("server RSS after", mib(after.rss), "MiB")
		r.fig("RSS per connection", round(float64(after.rss-before.rss)/n/1024, 2), "KiB")
	}
	perConn := func(name, metric string) {
		a, ok1 := mAfter[metric]
		b, ok2 := mBefore[metric]
		if ok1 && ok2 {
			r.fig(name, round((a-b)/n/1024, 2), "KiB")
		}
	}
	perConn("heap in use per connection", "go_memstats_heap_inuse_bytes")
	perConn("stacks per connection", "go_memstats_stack_inuse_bytes")
	if g, ok := mAfter["go_goroutines"]; ok {
		r.fig("server goroutines", g, "")
		if g0, ok := mBefore["go_goroutines"]; ok {
			r.fig("goroutines per connection", round((g-g0)/n, 2), "")
		}
	}

	e.logf("connect: holding for %s", cfg.Hold)
	srv := watchProc(e.PID, time.Second)
	sleep(ctx, cfg.Hold)
	u := srv.end()
	if u.ok {
		r.fig("server CPU while idle", round(u.cpuPct, 1), "%")
	}
	alive := 0
	for _, l := range conns {
		if l.alive() {
			alive++
		}
	}
	r.fig("open after hold", alive, "")

	start = time.Now()
	closeAll(conns)
	r.fig("close time", round(time.Since(start).Seconds(), 2), "s")
	conns = nil

	r.Complete = alive == cfg.Conns
	if !r.Complete {
		r.problem("%d of %d connections closed while idle", cfg.Conns-alive, cfg.Conns)
	}
	if ctx.Err() != nil {
		r.Complete = false
		r.problem("interrupted")
	}
	r.note("RSS per connection = (server RSS after connecting and %s settling - RSS before) / connections; heap and stacks from the server's /metrics", cfg.Settle)
	r.note("each connection read its hello, then stays idle (answering pings)")
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
