package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"parley"
)

// testPruneAttempts: attempts recorded before the cutoff go, in batches of
// at most limit; later ones stay and still count.
func testPruneAttempts(t *testing.T, s parley.Store) {
	ctx := context.Background()
	for i := range 5 {
		ok(t, s.AddLoginFailure(ctx, []string{"ip:192.0.2.1", "login:alice"}, at(i)), "AddLoginFailure")
	}
	n, err := s.PruneAttempts(ctx, at(3), 4)
	ok(t, err, "PruneAttempts")
	if n != 4 {
		t.Fatalf("first batch pruned %d, want 4 (the limit)", n)
	}
	n, err = s.PruneAttempts(ctx, at(3), 4)
	ok(t, err, "PruneAttempts")
	if n != 2 {
		t.Fatalf("second batch pruned %d, want the 2 left before the cutoff", n)
	}
	if n, err := s.PruneAttempts(ctx, at(3), 4); err != nil || n != 0 {
		t.Fatalf("nothing left to prune: %d, %v", n, err)
	}
	for _, key := range []string{"ip:192.0.2.1", "login:alice"} {
		if n, err := s.LoginFailures(ctx, key, at(0).Add(-time.Hour)); err != nil || n != 2 {
			t.Fatalf("%s: %d attempts left, %v; want 2 (at the cutoff and after)", key, n, err)
		}
	}
}

// testPruneSessions: sessions that expired before the cutoff go; the
// others stay.
func testPruneSessions(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	newSession(t, s, alice, "old", at(0), time.Hour)     // expires at(60)
	newSession(t, s, alice, "older", at(0), time.Minute) // expires at(1)
	keep := newSession(t, s, alice, "live", at(0), 48*time.Hour)
	n, err := s.PruneSessions(ctx, at(61), 100)
	ok(t, err, "PruneSessions")
	if n != 2 {
		t.Fatalf("pruned %d sessions, want the 2 expired", n)
	}
	for _, tok := range []string{"old", "older"} {
		_, err := s.SessionByTokenHash(ctx, hashOf(tok), at(0))
		wantCode(t, err, parley.ENOTFOUND, "pruned session "+tok)
	}
	got, err := s.SessionByTokenHash(ctx, hashOf("live"), at(61))
	ok(t, err, "live session")
	checkSession(t, "live session", got, keep)
}

// testPruneConcurrent: several nodes pruning at once delete each row once
// and fail none.
func testPruneConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	for i := range 50 {
		ok(t, s.AddLoginFailure(ctx, []string{"ip:192.0.2.1"}, at(i)), "AddLoginFailure")
	}
	for i := range 20 {
		newSession(t, s, alice, "s"+string(rune('a'+i)), at(0), time.Minute)
	}
	var mu sync.Mutex
	var attempts, sessions int
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				a, err := s.PruneAttempts(ctx, at(100), 7)
				if err != nil {
					errs <- err
					return
				}
				b, err := s.PruneSessions(ctx, at(100), 3)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				attempts, sessions = attempts+a, sessions+b
				mu.Unlock()
				if a == 0 && b == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent prune: %v", err)
	}
	if attempts != 50 || sessions != 20 {
		t.Fatalf("pruned %d attempts and %d sessions in all, want 50 and 20", attempts, sessions)
	}
}
