package app_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"parley"
	"parley/app"
	"parley/servertest"
)

// TestPruning: a node deletes, by itself, attempts older than a day and
// sessions that have expired; recent attempts and live sessions stay.
func TestPruning(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.PruneInterval = 20 * time.Millisecond }))
	st := srv.Node.Store
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := parley.User{Username: "alice", Email: "alice@example.com", DisplayName: "Alice", AcceptingMessages: true, CreatedAt: now}
	if err := st.CreateUser(ctx, &u, "hash"); err != nil {
		t.Fatal(err)
	}
	session := func(token string, expires time.Time) []byte {
		h := sha256.Sum256([]byte(token))
		s := parley.Session{UserID: u.ID, TokenHash: h[:], CreatedAt: expires.Add(-time.Hour), LastUsed: expires.Add(-time.Hour), ExpiresAt: expires}
		if err := st.CreateSession(ctx, &s); err != nil {
			t.Fatal(err)
		}
		return h[:]
	}
	expired := session("expired", now.Add(-time.Minute))
	live := session("live", now.Add(time.Hour))
	if err := st.AddLoginFailure(ctx, []string{"ip:old"}, now.Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.AddLoginFailure(ctx, []string{"ip:new"}, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	long := now.Add(-48 * time.Hour)
	deadline := time.Now().Add(20 * time.Second)
	for {
		old, err1 := st.LoginFailures(ctx, "ip:old", long)
		_, err2 := st.SessionByTokenHash(ctx, expired, now.Add(-2*time.Minute)) // as it was before it expired
		if err1 == nil && old == 0 && parley.ErrorCode(err2) == parley.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %d old attempts (%v), expired session: %v", old, err1, err2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := st.LoginFailures(ctx, "ip:new", long); err != nil || n != 1 {
		t.Fatalf("recent attempt: %d, %v; want it kept", n, err)
	}
	if _, err := st.SessionByTokenHash(ctx, live, now); err != nil {
		t.Fatalf("live session: %v", err)
	}
}
