package suggest

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time source for Limiter tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestLimiter(perMinute, maxUsers int) (*Limiter, *fakeClock) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := NewLimiter(perMinute, maxUsers)
	l.now = clock.Now
	return l, clock
}

func TestLimiterDefaultTenPerMinute(t *testing.T) {
	l, clock := newTestLimiter(0, 0)
	for i := range 10 {
		if ok, _ := l.Allow(1); !ok {
			t.Fatalf("request %d denied, want the first 10 allowed", i+1)
		}
	}
	ok, retry := l.Allow(1)
	if ok {
		t.Fatal("11th request in the same instant allowed")
	}
	if retry != 6*time.Second {
		t.Errorf("retry after %v, want 6s (one token per 6s at 10/minute)", retry)
	}
	// A denied request takes no token: still 6s, not 12s, after another try.
	if _, retry := l.Allow(1); retry != 6*time.Second {
		t.Errorf("after a second denial: retry after %v, want 6s", retry)
	}

	clock.Advance(5 * time.Second)
	if ok, retry := l.Allow(1); ok || retry != time.Second {
		t.Errorf("after 5s: %v, %v; want denied, retry after 1s", ok, retry)
	}
	clock.Advance(time.Second)
	if ok, _ := l.Allow(1); !ok {
		t.Error("after 6s: denied, want allowed")
	}
	if ok, _ := l.Allow(1); ok {
		t.Error("right after using the refilled token: allowed, want denied")
	}
}

func TestLimiterPerUser(t *testing.T) {
	l, _ := newTestLimiter(2, 0)
	for range 2 {
		if ok, _ := l.Allow(1); !ok {
			t.Fatal("user 1 denied within its limit")
		}
	}
	if ok, _ := l.Allow(1); ok {
		t.Fatal("user 1 allowed over its limit")
	}
	if ok, _ := l.Allow(2); !ok {
		t.Error("user 2 denied because of user 1")
	}
}

func TestLimiterEvictsIdleUsers(t *testing.T) {
	l, clock := newTestLimiter(1, 0)
	for u := range int64(100) {
		l.Allow(u)
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("tracking %d users, want 100", n)
	}
	clock.Advance(30 * time.Second)
	l.Allow(1000)
	if n := l.Len(); n != 101 {
		t.Fatalf("after 30s: tracking %d users, want 101 (none idle for a minute yet)", n)
	}
	clock.Advance(30 * time.Second)
	l.Allow(1001)
	if n := l.Len(); n != 2 {
		t.Errorf("after a minute: tracking %d users, want 2 (the 100 idle ones forgotten)", n)
	}
	// Forgetting an idle user changes nothing for them: a minute refills
	// their bucket anyway.
	if ok, _ := l.Allow(5); !ok {
		t.Error("idle user denied")
	}
}

func TestLimiterCapsTrackedUsers(t *testing.T) {
	l, _ := newTestLimiter(1, 3)
	for u := range int64(3) {
		if ok, _ := l.Allow(u); !ok {
			t.Fatalf("user %d denied", u)
		}
	}
	l.Allow(0) // user 0 is now the most recently seen; user 1 the least
	if ok, _ := l.Allow(3); !ok {
		t.Fatal("new user denied at the cap")
	}
	if n := l.Len(); n != 3 {
		t.Errorf("tracking %d users, want the cap of 3", n)
	}
	// User 0 is still limited; user 1 was forgotten and starts afresh.
	if ok, _ := l.Allow(0); ok {
		t.Error("recently seen user 0 was forgotten")
	}
	if ok, _ := l.Allow(1); !ok {
		t.Error("least recently seen user 1 still tracked")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l, _ := newTestLimiter(10, 50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := map[int64]int{}
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				u := int64((g + i) % 20)
				if ok, _ := l.Allow(u); ok {
					mu.Lock()
					allowed[u]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for u, n := range allowed {
		if n != 10 {
			t.Errorf("user %d allowed %d times in one instant, want 10", u, n)
		}
	}
	if len(allowed) != 20 {
		t.Errorf("%d users allowed, want 20", len(allowed))
	}
}
