package storetest

import (
	"context"
	"sync"
	"testing"

	"parley"
)

func testReserveAttempt(t *testing.T, s parley.Store) {
	ctx := context.Background()
	reserve := func(i int, limits ...parley.AttemptLimit) int {
		t.Helper()
		full, err := s.ReserveAttempt(ctx, at(i), limits)
		ok(t, err, "ReserveAttempt")
		return full
	}
	user := func(max int) parley.AttemptLimit { return parley.AttemptLimit{Key: "u:alice", Max: max, Since: at(0)} }
	ip := func(max int) parley.AttemptLimit {
		return parley.AttemptLimit{Key: "ip:192.0.2.1", Max: max, Since: at(0)}
	}
	for i := range 3 {
		if full := reserve(i, ip(10), user(3)); full != -1 {
			t.Fatalf("reservation %d: full limit %d, want none", i, full)
		}
	}
	if full := reserve(3, ip(10), user(3)); full != 1 {
		t.Fatalf("fourth reservation: full limit %d, want 1 (the user's)", full)
	}
	// A full limit records nothing for the other keys either.
	if n, err := s.LoginFailures(ctx, "ip:192.0.2.1", at(0)); err != nil || n != 3 {
		t.Fatalf("ip attempts = %d, %v; want 3", n, err)
	}
	// Attempts before Since do not count.
	if full := reserve(4, ip(10), parley.AttemptLimit{Key: "u:alice", Max: 3, Since: at(1)}); full != -1 {
		t.Fatalf("window moved on: full limit %d, want none", full)
	}
	// Forgetting takes back one attempt per key.
	ok(t, s.ForgetAttempt(ctx, []string{"u:alice", "ip:192.0.2.1"}, at(4)), "ForgetAttempt")
	ok(t, s.ForgetAttempt(ctx, []string{"u:nobody"}, at(4)), "ForgetAttempt(unknown)")
	for key, want := range map[string]int{"u:alice": 3, "ip:192.0.2.1": 3} {
		if n, err := s.LoginFailures(ctx, key, at(0)); err != nil || n != want {
			t.Fatalf("%s attempts after forget = %d, %v; want %d", key, n, err, want)
		}
	}
}

// testReserveAttemptConcurrent: concurrent reservations never pass Max.
func testReserveAttemptConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted, errs := 0, []error{}
	for range 40 {
		wg.Go(func() {
			full, err := s.ReserveAttempt(ctx, at(1), []parley.AttemptLimit{
				{Key: "ip:192.0.2.9", Max: 100, Since: at(0)}, {Key: "u:bob", Max: 10, Since: at(0)}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if full == -1 {
				granted++
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("ReserveAttempt: %v", errs[0])
	}
	if granted != 10 {
		t.Fatalf("%d of 40 concurrent reservations granted, want 10", granted)
	}
}
