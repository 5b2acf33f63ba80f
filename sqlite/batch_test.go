package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"parley"
)

// newUnstarted opens a store whose writer has not started, so that a test
// can hand commit a batch of its choosing; start starts the writer.
func newUnstarted(t *testing.T) (s *Store, start func()) {
	t.Helper()
	s, err := open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	started := false
	t.Cleanup(func() {
		if !started {
			go s.writer()
		}
		s.Close()
	})
	return s, func() { started = true; go s.writer() }
}

func req(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) *writeReq {
	return &writeReq{ctx: ctx, fn: fn, res: make(chan error, 1)}
}

// appendReq is a write appending nm; its results land in *m and *created.
func appendReq(nm parley.NewMessage, m *parley.Message, created *bool) *writeReq {
	return req(context.Background(), func(ctx context.Context, tx *wtx) (err error) {
		*m, *created, err = appendTx(ctx, tx, nm)
		return err
	})
}

func mustExec(t *testing.T, s *Store, query string, args ...any) {
	t.Helper()
	if _, err := s.w.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// setup stores users 1 (alice) and 2 (bob), and a group 1 with alice only.
func setup(t *testing.T, s *Store) {
	t.Helper()
	mustExec(t, s, `INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'alice', 'h', 0), (2, 'bob', 'h', 0)`)
	mustExec(t, s, `INSERT INTO conversations (id, kind, name, code, created_at, last_activity, member_count) VALUES (1, 'group', 'G', 'g', 0, 0, 1)`)
	mustExec(t, s, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (1, 1, 'owner', 0)`)
}

func text(sender int64, clientMsgID string) parley.NewMessage {
	return parley.NewMessage{ConversationID: 1, SenderID: sender, ClientMsgID: clientMsgID,
		Kind: parley.MessageText, Text: "hi", CreatedAt: time.Unix(100, 0)}
}

// TestBatchIsolation: writes that fail inside a batch are rolled back alone;
// the others commit together, in order, in one transaction.
func TestBatchIsolation(t *testing.T) {
	s, start := newUnstarted(t)
	setup(t, s)

	var (
		m          [4]parley.Message
		created    [4]bool
		canceled   context.Context
		cancel     context.CancelFunc
		bug        = errors.New("a bug")
		halfWrites = req(context.Background(), func(ctx context.Context, tx *wtx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET name = 'half-done' WHERE id = 1`); err != nil {
				return err
			}
			return bug
		})
	)
	canceled, cancel = context.WithCancel(context.Background())
	cancel()
	batch := []*writeReq{
		appendReq(text(1, "a"), &m[0], &created[0]),
		appendReq(text(2, "b"), &m[1], &created[1]), // bob is not a member
		halfWrites,
		appendReq(text(1, "c"), &m[2], &created[2]),
		appendReq(text(1, "a"), &m[3], &created[3]), // repeats the first
		req(canceled, func(context.Context, *wtx) error { t.Error("a canceled write ran"); return nil }),
	}
	s.commit(batch)

	errs := make([]error, len(batch))
	for i, r := range batch {
		errs[i] = <-r.res
	}
	for i, want := range []string{"", parley.ENOTFOUND, parley.EINTERNAL, "", ""} {
		if got := parley.ErrorCode(errs[i]); got != want {
			t.Fatalf("write %d: %v, want code %q", i, errs[i], want)
		}
	}
	if !errors.Is(errs[2], bug) || !errors.Is(errs[5], context.Canceled) {
		t.Fatalf("errors %v and %v, want the bug and context.Canceled", errs[2], errs[5])
	}
	if m[0].Seq != 1 || m[2].Seq != 2 || !created[0] || !created[2] {
		t.Fatalf("seqs %d, %d (created %v, %v), want 1, 2", m[0].Seq, m[2].Seq, created[0], created[2])
	}
	if created[3] || m[3].ID != m[0].ID {
		t.Fatalf("repeat in the same batch: created %v, id %d; want the first message %d", created[3], m[3].ID, m[0].ID)
	}
	if b, w := s.batches.Load(), s.batched.Load(); b != 1 || w != int64(len(batch)) {
		t.Fatalf("%d commits of %d writes, want 1 of %d", b, w, len(batch))
	}

	start()
	c, err := s.Conversation(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "G" || c.LastSeq != 2 {
		t.Fatalf("conversation %+v: want name G (the failed write undone) and last_seq 2", c)
	}
	ms, err := s.Messages(t.Context(), 1, parley.MessageQuery{Limit: 10})
	if err != nil || len(ms) != 2 {
		t.Fatalf("history: %d messages, %v; want 2", len(ms), err)
	}
}

// TestBatchBrokenTransaction: when the transaction itself fails (here a
// write ends it, as SQLite does on some I/O errors), every write of the
// batch fails, nothing is committed, and the next batch works.
func TestBatchBrokenTransaction(t *testing.T) {
	s, start := newUnstarted(t)
	setup(t, s)

	var (
		m       [2]parley.Message
		created [2]bool
	)
	batch := []*writeReq{
		appendReq(text(1, "a"), &m[0], &created[0]),
		req(context.Background(), func(ctx context.Context, tx *wtx) error {
			if _, err := tx.tx.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return parley.ErrNotFound // not the answer for the others
		}),
		appendReq(text(1, "b"), &m[1], &created[1]),
	}
	s.commit(batch)
	for i, r := range batch {
		if err := <-r.res; parley.ErrorCode(err) != parley.EINTERNAL {
			t.Fatalf("write %d of a broken batch: %v, want an internal error", i, err)
		}
	}

	start()
	c, err := s.Conversation(t.Context(), 1)
	if err != nil || c.LastSeq != 0 {
		t.Fatalf("after a broken batch: last_seq %d, %v; want 0", c.LastSeq, err)
	}
	msg, created0, err := s.AppendMessage(t.Context(), text(1, "a"))
	if err != nil || !created0 || msg.Seq != 1 {
		t.Fatalf("append after a broken batch: seq %d created %v, %v", msg.Seq, created0, err)
	}
}

// TestStatementsPrepared: queries the writer ran are prepared after their
// batch and used from then on.
func TestStatementsPrepared(t *testing.T) {
	s, start := newUnstarted(t)
	setup(t, s)
	start()
	for i := range 3 {
		if _, _, err := s.AppendMessage(t.Context(), text(1, string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	// One other write first: its savepoint is prepared after its batch.
	if err := s.write(t.Context(), func(context.Context, *wtx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// The writer is idle and its maps are settled: a write (which the writer
	// runs) reads them safely.
	var prepared, missed int
	err := s.write(t.Context(), func(context.Context, *wtx) error {
		prepared, missed = len(s.prepared), len(s.missed)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if prepared < 5 || missed != 0 {
		t.Fatalf("%d statements prepared, %d missed; want the append's statements prepared", prepared, missed)
	}
}

// TestLockedIsUnavailable: a database another process keeps locked gives
// parley.ErrUnavailable, without the driver's text in the message, and
// works again once the lock is gone.
func TestLockedIsUnavailable(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 50 * time.Millisecond
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	u := parley.User{Username: "alice"}
	err = s.CreateUser(t.Context(), &u, "h")
	if parley.ErrorCode(err) != parley.EUNAVAILABLE || parley.ErrorMessage(err) != parley.ErrUnavailable.Message {
		t.Fatalf("write to a locked database: %v (code %q, message %q), want EUNAVAILABLE with its own message",
			err, parley.ErrorCode(err), parley.ErrorMessage(err))
	}
	if _, err := conn.ExecContext(t.Context(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(t.Context(), &u, "h"); err != nil {
		t.Fatalf("write after the lock is gone: %v", err)
	}
}

// TestCacheAfterRollback: a write that fills the writer's caches and is
// then rolled back leaves nothing of itself in them: an append later in the
// same batch by the member it added (and undid) is refused, and seq goes on
// from the last committed one.
func TestCacheAfterRollback(t *testing.T) {
	s, start := newUnstarted(t)
	setup(t, s)
	var (
		m       [3]parley.Message
		created [3]bool
		bug     = errors.New("a bug")
	)
	batch := []*writeReq{
		appendReq(text(1, "a"), &m[0], &created[0]),
		req(context.Background(), func(ctx context.Context, tx *wtx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (1, 2, 'member', 0)`); err != nil {
				return err
			}
			if _, _, err := appendTx(ctx, tx, text(2, "b")); err != nil {
				return err
			}
			return bug
		}),
		appendReq(text(2, "b"), &m[1], &created[1]), // bob is no member after all
		appendReq(text(1, "c"), &m[2], &created[2]),
	}
	s.commit(batch)
	for i, want := range []string{"", parley.EINTERNAL, parley.ENOTFOUND, ""} {
		if got := parley.ErrorCode(<-batch[i].res); got != want {
			t.Fatalf("write %d: code %q, want %q", i, got, want)
		}
	}
	if m[0].Seq != 1 || m[2].Seq != 2 {
		t.Fatalf("seqs %d, %d; want 1, 2", m[0].Seq, m[2].Seq)
	}
	start()
	if c, err := s.Conversation(t.Context(), 1); err != nil || c.LastSeq != 2 {
		t.Fatalf("last_seq %d, %v; want 2", c.LastSeq, err)
	}
}

// TestCacheSeesOtherProcesses: changes another process commits to the
// database file (here another connection, as the sqlite3 shell would make)
// are seen by the next append: membership, acceptance and the conversation's
// last seq.
func TestCacheSeesOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	alice, bob := parley.User{Username: "alice", AcceptingMessages: true}, parley.User{Username: "bob", AcceptingMessages: true}
	for _, u := range []*parley.User{&alice, &bob} {
		if err := s.CreateUser(ctx, u, "h"); err != nil {
			t.Fatal(err)
		}
	}
	d, _, err := s.Direct(ctx, alice.ID, bob.ID, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	send := func(id string) (parley.Message, error) {
		m, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: d.ID, SenderID: alice.ID, ClientMsgID: id,
			Kind: parley.MessageText, Text: "hi", CreatedAt: time.Unix(2, 0)})
		return m, err
	}
	if _, err := send("1"); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := other.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE users SET accepting_messages = 0 WHERE id = ?`, bob.ID)
	if _, err := send("2"); parley.ErrorCode(err) != parley.ENOTACCEPTING {
		t.Fatalf("after another process turned acceptance off: %v, want not_accepting", err)
	}
	exec(`UPDATE users SET accepting_messages = 1 WHERE id = ?`, bob.ID)
	exec(`INSERT INTO messages (conversation_id, seq, mod, kind, text, created_at) VALUES (?, 2, 2, 'text', 'restored', 0)`, d.ID)
	exec(`UPDATE conversations SET last_seq = 2, last_mod = 2 WHERE id = ?`, d.ID)
	if m, err := send("3"); err != nil || m.Seq != 3 {
		t.Fatalf("after another process appended seq 2: seq %d, %v; want 3", m.Seq, err)
	}
	exec(`DELETE FROM members WHERE conversation_id = ? AND user_id = ?`, d.ID, alice.ID)
	if _, err := send("4"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("after another process removed the sender: %v, want not_found", err)
	}
}

// TestWALCheckpointPages: the write connection checkpoints every
// walCheckpointPages pages, not SQLite's default 1000.
func TestWALCheckpointPages(t *testing.T) {
	s, start := newUnstarted(t)
	start()
	var pages int
	if err := s.write(t.Context(), func(ctx context.Context, tx *wtx) error {
		return tx.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages)
	}); err != nil {
		t.Fatal(err)
	}
	if pages != walCheckpointPages {
		t.Fatalf("wal_autocheckpoint %d, want %d", pages, walCheckpointPages)
	}
}

// TestQuietWritesKeepHeads: writes that change only columns the writer does
// not cache (marks, last seen, push state) leave its cached heads, and a
// write that changes a cached column drops them.
func TestQuietWritesKeepHeads(t *testing.T) {
	s, start := newUnstarted(t)
	setup(t, s)
	mustExec(t, s, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (1, 2, 'member', 0)`)
	start()
	ctx := t.Context()
	if _, _, err := s.AppendMessage(ctx, text(1, "a")); err != nil {
		t.Fatal(err)
	}
	cached := func() (ok bool) {
		if err := s.write(ctx, func(context.Context, *wtx) error { _, ok = s.cache.heads[1]; return nil }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !cached() {
		t.Fatal("no head cached after an append")
	}
	if _, changed, err := s.SetMarks(ctx, 1, 2, 1, 1, time.Now(), 100); err != nil || !changed {
		t.Fatalf("SetMarks: changed %v, %v", changed, err)
	}
	if err := s.SetLastSeen(ctx, 1, time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	if !cached() {
		t.Fatal("marks or last seen dropped the head")
	}
	if _, _, err := s.RenameGroup(ctx, 1, "H", 1, time.Unix(6, 0)); err != nil {
		t.Fatal(err)
	}
	if m, _, err := s.AppendMessage(ctx, text(1, "b")); err != nil || m.Seq != 3 {
		t.Fatalf("after a rename (and its system message): seq %d, %v; want 3", m.Seq, err)
	}
}
