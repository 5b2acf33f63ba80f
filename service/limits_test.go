package service_test

import (
	"context"
	"testing"
	"time"

	"parley"
	"parley/service"
)

// TestHashConcurrencyBounded: while every hashing slot is taken, sign-ups
// and logins wait HashWait and are answered unavailable with a time to
// retry; a login turned away this way is not counted as a failure.
func TestHashConcurrencyBounded(t *testing.T) {
	ctx := context.Background()
	svc, store := newService(t, service.Config{HashConcurrency: 2, HashWait: 20 * time.Millisecond})
	if _, err := svc.Signup(ctx, "alice", "alice@example.com", "password-alice", "", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	release := svc.HoldHashSlots()
	busy := func(what string, err error) {
		t.Helper()
		if parley.ErrorCode(err) != parley.EUNAVAILABLE || parley.ErrorRetryAfter(err) <= 0 {
			t.Fatalf("%s with every hashing slot taken: %v, want unavailable with a retry time", what, err)
		}
	}
	_, err := svc.Signup(ctx, "bob", "bob@example.com", "password-bob", "", "192.0.2.1")
	busy("sign-up", err)
	_, _, _, err = svc.Login(ctx, "alice", "wrong-password", "test", "192.0.2.1")
	busy("login", err)
	n, err := store.LoginFailures(ctx, "ip:192.0.2.1", time.Time{})
	if err != nil || n != 0 {
		t.Fatalf("failures counted for logins that were never checked: %d, %v", n, err)
	}
	release()
	if _, err := svc.Signup(ctx, "bob", "bob@example.com", "password-bob", "", "192.0.2.1"); err != nil {
		t.Fatalf("sign-up once the slots are free: %v", err)
	}
	if _, _, _, err := svc.Login(ctx, "alice", "password-alice", "test", "192.0.2.1"); err != nil {
		t.Fatalf("login once the slots are free: %v", err)
	}
}
