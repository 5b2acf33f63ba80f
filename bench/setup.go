package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley"
	"parley/client"
)

// Target is the server under load.
type Target struct {
	// URL is the server's base URL (http://127.0.0.1:8080).
	URL string
	// MetricsURL is where the server's Prometheus metrics are; empty means
	// /metrics at URL. MetricsToken is sent as a bearer token for them.
	MetricsURL, MetricsToken string
	// PID is the server's process id, for its CPU and RSS; 0 when unknown.
	PID int
	// Hash describes the server's password hashing, "" when unknown.
	Hash string
	// Concurrency bounds parallel REST calls while setting up (sign-ups,
	// logins, joins). Zero value means 32.
	Concurrency int
	// Log gets progress lines; nil discards them.
	Log io.Writer
	// WaitIdle, if positive, makes each measured run wait up to this long
	// for the machine to be quiet (below 30% of one core) before it starts.
	WaitIdle time.Duration
	// Nodes, when the server is several nodes of one deployment, are all of
	// them (URL and PID is the first): WebSocket connections and the REST
	// clients of sign-up and setup go to each in turn, so that in pairs the
	// two people of a pair are on different nodes. CPU and memory figures
	// add up every node whose PID is known.
	Nodes []Node
}

// Node is one server of a multi-node Target.
type Node struct {
	URL string
	PID int // 0 when unknown
}

// env is what a scenario works with: the target and a shared HTTP client.
type env struct {
	Target
	http *http.Client
	run  string // this run's prefix for user names and message tags
}

func newEnv(t Target) *env {
	if t.Concurrency <= 0 {
		t.Concurrency = 32
	}
	if t.Log == nil {
		t.Log = io.Discard
	}
	t.URL = strings.TrimRight(t.URL, "/")
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        t.Concurrency * 2,
		MaxIdleConnsPerHost: t.Concurrency * 2,
		IdleConnTimeout:     30 * time.Second,
	}
	return &env{Target: t, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, run: runID()}
}

func (e *env) close() { e.http.CloseIdleConnections() }

// waitQuiet waits for a quiet machine if WaitIdle asks for it.
func (e *env) waitQuiet(ctx context.Context) {
	if e.WaitIdle <= 0 {
		return
	}
	waited := WaitQuiet(30, e.WaitIdle, ctx.Done())
	if waited >= e.WaitIdle {
		e.logf("the machine stayed busy for %s; running anyway", e.WaitIdle)
	} else if waited > 4*time.Second {
		e.logf("waited %s for a quiet machine", waited.Round(time.Second))
	}
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.Log, "bench: "+format+"\n", args...)
}

// runID is a short random lower-case name, so that runs against the same
// server never collide.
func runID() string {
	return strings.ToLower(rand.Text()[:6])
}

// user is a signed-up, logged-in bench user.
type user struct {
	parley.User
	c *client.Client
}

// urlFor is the base URL the i-th user or connection uses.
func (e *env) urlFor(i int) string {
	if len(e.Nodes) == 0 {
		return e.URL
	}
	return strings.TrimRight(e.Nodes[i%len(e.Nodes)].URL, "/")
}

// pids are the server processes whose CPU and memory are reported.
func (e *env) pids() []int {
	if len(e.Nodes) == 0 {
		return []int{e.PID}
	}
	var out []int
	for _, n := range e.Nodes {
		out = append(out, n.PID)
	}
	return out
}

func (e *env) client() *client.Client { return e.clientFor(0) }

// clientFor is a REST client of the i-th user's node.
func (e *env) clientFor(i int) *client.Client {
	return client.New(e.urlFor(i), client.WithHTTPClient(e.http), client.WithUserAgent("parley-bench"))
}

const benchPassword = "bench-password-1"

// users signs up and logs in n users with names <run>-<prefix><i>, in
// parallel. It reports progress every few seconds.
func (e *env) users(ctx context.Context, prefix string, n int) ([]*user, error) {
	out := make([]*user, n)
	start := time.Now()
	var done atomic.Int64
	stop := e.progress("users", &done, n)
	defer stop()
	err := e.parallel(ctx, n, func(ctx context.Context, i int) error {
		c := e.clientFor(i)
		name := fmt.Sprintf("%s-%s%d", e.run, prefix, i)
		if _, err := c.Signup(ctx, name, name+"@bench.invalid", benchPassword); err != nil {
			return fmt.Errorf("sign up %s: %w", name, err)
		}
		u, err := c.Login(ctx, name, benchPassword)
		if err != nil {
			return fmt.Errorf("log in %s: %w", name, err)
		}
		out[i] = &user{User: u, c: c}
		done.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.logf("%d users signed up and logged in in %s", n, time.Since(start).Round(time.Millisecond))
	return out, nil
}

// progress logs done/total every 5 s until the returned stop is called.
func (e *env) progress(what string, done *atomic.Int64, total int) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				e.logf("%s: %d/%d", what, done.Load(), total)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// parallel runs f for 0..n-1 with at most Concurrency at a time; the first
// error cancels the rest.
func (e *env) parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	return parallel(ctx, n, e.Concurrency, f)
}

func parallel(ctx context.Context, n, limit int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

// countStored pages through a conversation's history after afterSeq, as
// member c sees it, and counts the text messages whose text starts with
// prefix.
func countStored(ctx context.Context, c *client.Client, convID, afterSeq int64, prefix string) (int, error) {
	n := 0
	for {
		msgs, more, err := c.History(ctx, convID, parley.MessageQuery{AfterSeq: afterSeq, Limit: parley.PageSizeMax})
		if err != nil {
			return n, err
		}
		for _, m := range msgs {
			if m.Kind == parley.MessageText && strings.HasPrefix(m.Text, prefix) {
				n++
			}
			afterSeq = m.Seq
		}
		if !more || len(msgs) == 0 {
			return n, nil
		}
	}
}
