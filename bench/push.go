package bench

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PushConfig sets up the push scenario.
type PushConfig struct {
	// Members of the group, every one offline with one push subscription
	// (default 1000).
	Members int
	// Bursts is how many messages are sent, each after the pushes of the
	// one before arrived (default 5).
	Bursts int
	// Delay is the server's --push-delay (reported, and the wait before
	// pushes are expected).
	Delay time.Duration
	// Sink is the push service's listener: the server must be allowed to
	// post to its address (--push-allowed-hosts).
	Sink net.Listener
	// Drain bounds the wait for one burst's pushes (default 60 s).
	Drain time.Duration
}

// pushSink is a push service that accepts every push and notes when each
// subscription's arrived.
type pushSink struct {
	mu      sync.Mutex
	arrived map[int][]time.Time // by member index
	total   int
}

func (s *pushSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/push/"))
	if r.Method != http.MethodPost || err != nil {
		http.NotFound(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 8192))
	s.mu.Lock()
	s.arrived[i] = append(s.arrived[i], now)
	s.total++
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func (s *pushSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Push measures push fan-out: a group whose members are all offline, each
// with one subscription on a local push service; each message makes one
// push per member. It reports pushes per second (from the first push of a
// burst to its last) and the time from the message being stored to each
// push request reaching the push service (which includes the delay).
func Push(ctx context.Context, t Target, cfg PushConfig) (*Result, error) {
	if cfg.Members < 2 {
		cfg.Members = 1000
	}
	if cfg.Bursts <= 0 {
		cfg.Bursts = 5
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 60 * time.Second
	}
	if cfg.Sink == nil {
		return nil, fmt.Errorf("push: no push service listener")
	}
	sink := &pushSink{arrived: map[int][]time.Time{}}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(cfg.Sink)
	defer srv.Close()
	sinkURL := "http://" + cfg.Sink.Addr().String()

	e := newEnv(t)
	defer e.close()
	e.logf("push: setting up %d members with a subscription each (run %s)", cfg.Members, e.run)
	users, err := e.users(ctx, "p", cfg.Members)
	if err != nil {
		return nil, err
	}
	owner := users[0]
	g, err := owner.c.CreateGroup(ctx, "push "+e.run, "")
	if err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	err = e.parallel(ctx, len(users)-1, func(ctx context.Context, i int) error {
		u := users[i+1]
		if _, _, err := u.c.JoinGroup(ctx, g.Code); err != nil {
			return fmt.Errorf("join group: %w", err)
		}
		// Groups above 25 members notify of mentions only by default:
		// every member asks for all.
		if err := e.rest(ctx, e.urlFor(i+1), u.c.Token(), http.MethodPatch,
			fmt.Sprintf("/api/v1/conversations/%d/settings", g.ID), map[string]any{"level": "all"}, http.StatusOK); err != nil {
			return err
		}
		return e.subscribe(ctx, e.urlFor(i+1), u.c.Token(), fmt.Sprintf("%s/push/%d", sinkURL, i+1))
	})
	if err != nil {
		return nil, err
	}
	r := &Result{Scenario: "push", Started: time.Now()}
	r.param("members", cfg.Members, "")
	r.param("bursts", cfg.Bursts, "")
	r.param("push delay", cfg.Delay.Seconds(), "s")
	e.waitQuiet(ctx)
	server := watchProc(e.PID, 200*time.Millisecond)
	self := watchProc(os.Getpid(), 200*time.Millisecond)
	mach := watchMachine()
	var (
		lat      Hist // stored → push request
		after    Hist // the same less the delay
		rates    []float64
		expected = cfg.Members - 1
	)
	for b := range cfg.Bursts {
		before := sink.count()
		m, _, err := owner.c.Send(ctx, g.ID, fmt.Sprintf("%s-b%d", e.run, b), fmt.Sprintf("burst %d of the push bench", b))
		if err != nil {
			return r, fmt.Errorf("send: %w", err)
		}
		deadline := time.Now().Add(cfg.Delay + cfg.Drain)
		for sink.count() < before+expected && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		got := sink.count() - before
		if got < expected {
			r.problem("burst %d: %d of %d pushes arrived", b, got, expected)
		}
		sink.mu.Lock()
		var first, last time.Time
		for _, times := range sink.arrived {
			if len(times) <= b {
				continue
			}
			at := times[b]
			d := at.Sub(m.CreatedAt)
			lat.Add(d)
			after.Add(max(d-cfg.Delay, 0))
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
		}
		sink.mu.Unlock()
		if span := last.Sub(first); got > 1 && span > 0 {
			rates = append(rates, float64(got-1)/span.Seconds())
		}
	}
	u, selfUse := server.end(), self.end()
	busy, _ := mach.busyPercent()
	r.fig("pushes", lat.Count(), "")
	if len(rates) > 0 {
		sum := 0.0
		for _, x := range rates {
			sum += x
		}
		r.fig("pushes per second", round(sum/float64(len(rates)), 0), "/s")
	}
	r.latency("stored → push request", &lat)
	r.latency("after the delay", &after)
	r.usage(u)
	r.machine(busy, u, selfUse)
	r.Complete = len(r.Problems) == 0
	r.note("one node's pool: --push-workers and --push-per-host bound the pushes in flight to the one local push service")
	r.note("times from the message's created_at (server clock) to the push service receiving the request (bench clock, same machine)")
	return r, nil
}

// subscribe registers a push subscription with fresh keys for the user.
func (e *env) subscribe(ctx context.Context, base, token, endpoint string) error {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return e.rest(ctx, base, token, http.MethodPost, "/api/v1/push/subscriptions", map[string]any{"endpoint": endpoint,
		"keys": map[string]any{"p256dh": base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
			"auth": base64.RawURLEncoding.EncodeToString(auth)}}, http.StatusCreated)
}

// rest makes one JSON request and checks its status.
func (e *env) rest(ctx context.Context, base, token, method, path string, in any, want int) error {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return nil
}
