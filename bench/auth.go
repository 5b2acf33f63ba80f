package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// AuthConfig sets up the auth scenario: sign-ups, then logins.
type AuthConfig struct {
	Users       int // accounts created, then logged into (default 200)
	Concurrency int // requests in flight (default 2 × CPUs)
}

// Auth measures sign-ups and logins per second. Both hash a password, so
// their rate is the server's hashing cost: the report names the parameters.
func Auth(ctx context.Context, t Target, cfg AuthConfig) (*Result, error) {
	if cfg.Users <= 0 {
		cfg.Users = 200
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2 * runtime.NumCPU()
	}
	t.Concurrency = cfg.Concurrency
	e := newEnv(t)
	defer e.close()
	r := &Result{Scenario: "auth", Started: time.Now()}
	r.param("users", cfg.Users, "")
	r.param("concurrency", cfg.Concurrency, "")
	hash := t.Hash
	if hash == "" {
		hash = "unknown (the server's own settings)"
	}
	r.param("password hash", hash, "")

	clients := make([]*user, cfg.Users)
	var mu sync.Mutex
	phase := func(name string, f func(ctx context.Context, i int) error) error {
		var h Hist
		e.waitQuiet(ctx)
		srv := watchProc(e.PID, 500*time.Millisecond)
		self := watchProc(os.Getpid(), 500*time.Millisecond)
		mach := watchMachine()
		start := time.Now()
		err := e.parallel(ctx, cfg.Users, func(ctx context.Context, i int) error {
			t0 := time.Now()
			if err := f(ctx, i); err != nil {
				return err
			}
			mu.Lock()
			h.Add(time.Since(t0))
			mu.Unlock()
			return nil
		})
		took := time.Since(start)
		use, selfUse := srv.end(), self.end()
		busy, ok := mach.busyPercent()
		if err != nil {
			return err
		}
		r.fig(name+"s/s", round(float64(cfg.Users)/took.Seconds(), 1), "")
		r.latency(name, &h)
		if use.ok {
			r.fig(name+" server CPU", round(use.cpuPct, 1), "%")
		}
		if ok && use.ok && selfUse.ok {
			r.fig(name+" other processes CPU", round(max(busy-use.cpuPct-selfUse.cpuPct, 0), 1), "%")
		}
		return nil
	}
	e.logf("auth: %d sign-ups", cfg.Users)
	err := phase("sign-up", func(ctx context.Context, i int) error {
		c := e.client()
		name := fmt.Sprintf("%s-a%d", e.run, i)
		u, err := c.Signup(ctx, name, name+"@bench.invalid", benchPassword)
		clients[i] = &user{User: u, c: c}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	e.logf("auth: %d logins", cfg.Users)
	err = phase("login", func(ctx context.Context, i int) error {
		_, err := clients[i].c.Login(ctx, clients[i].Username, benchPassword)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	r.Complete = true
	r.note("each sign-up and each login hashes one password (argon2id); logins also create a session")
	return r, nil
}
