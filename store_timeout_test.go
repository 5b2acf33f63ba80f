package parley_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"parley"
	"parley/sqlite"
	"parley/storetest"
)

func openSQLite(t *testing.T, path string) parley.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Every method goes through the deadline unchanged: the store suite passes
// on a wrapped store.
func TestWithTimeoutPassesThrough(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		return parley.WithTimeout(openSQLite(t, filepath.Join(t.TempDir(), "parley.db")), parley.DefaultStoreTimeout)
	})
}

// A write waiting for a lock that another process holds (a backup, the
// sqlite3 shell) answers unavailable at the deadline instead of waiting
// for the lock; reads go on; once the lock is released, writes work again.
// A caller that cancels gets its own error, not unavailable; domain errors
// pass unchanged.
func TestWithTimeoutLockedDatabase(t *testing.T) {
	const deadline = 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "parley.db")
	s := parley.WithTimeout(openSQLite(t, path), deadline)
	ctx := t.Context()
	alice := storetest.MustUser(t, s, "alice")
	g := storetest.MustGroup(t, s, "G", alice)

	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, _, err = s.AppendMessage(ctx, parley.NewMessage{ConversationID: g.ID, SenderID: alice.ID, ClientMsgID: "locked",
		Kind: parley.MessageText, Text: "wait", CreatedAt: time.Now()})
	took := time.Since(start)
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("append behind a lock: %v, want unavailable", err)
	}
	if took < deadline || took > deadline+2*time.Second {
		t.Errorf("append behind a lock answered after %v, want about %v", took, deadline)
	}
	if _, err := s.User(ctx, alice.ID); err != nil {
		t.Errorf("read while another process holds the write lock: %v", err)
	}
	if _, err := s.User(ctx, alice.ID+100); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("unknown user: %v, want not_found", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(deadline/3, cancel) // while the append waits for the lock
	if _, _, err := s.AppendMessage(cctx, parley.NewMessage{ConversationID: g.ID, SenderID: alice.ID, ClientMsgID: "cancelled",
		Kind: parley.MessageText, Text: "wait", CreatedAt: time.Now()}); parley.ErrorCode(err) == parley.EUNAVAILABLE || err == nil {
		t.Errorf("append cancelled by its caller: %v, want the caller's error", err)
	}

	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	// The append whose caller gave up may still have been committed: a
	// resend finds it.
	m, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: g.ID, SenderID: alice.ID, ClientMsgID: "locked",
		Kind: parley.MessageText, Text: "wait", CreatedAt: time.Now()})
	if err != nil || m.ClientMsgID != "locked" {
		t.Fatalf("resend once the lock is released: %+v, %v", m, err)
	}
}

// TestErrorCodeOfNilAllocatesNothing: every store call's result goes
// through ErrorCode (mapErr); a call that succeeded costs no allocation.
func TestErrorCodeOfNilAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { parley.ErrorCode(nil); parley.ErrorMessage(nil) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
