package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"parley"
	"parley/storetest"
	"parley/testwait"
)

// migrateTo brings db's schema up to migration version.
func migrateTo(t *testing.T, db *sql.DB, version int64) {
	t.Helper()
	fsys, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
}

// oldDatabase makes a database at the schema before search (migration 11)
// holding n text messages "message i" (message 7 deleted, message 20 says
// "needle"), and a system message, and returns its path.
func oldDatabase(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migrateTo(t, db, 11)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	now := time.Now().UnixMicro()
	exec(`INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'alice', 'h', ?), (2, 'bob', 'h', ?)`, now, now)
	exec(`INSERT INTO conversations (id, kind, name, code, created_at, last_seq, last_mod, last_activity, member_count)
		VALUES (1, 'group', 'G', 'gcode', ?, ?, ?, ?, 2)`, now, n+1, n+1, now)
	exec(`INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (1, 1, 'owner', ?), (1, 2, 'member', ?)`, now, now)
	exec(`INSERT INTO messages (conversation_id, seq, mod, sender_id, kind, text, system, created_at)
		VALUES (1, 1, 1, 1, 'system', '', '{"event":"created"}', ?)`, now)
	for i := 1; i <= n; i++ {
		text, deleted := fmt.Sprintf("message %d", i), sql.NullInt64{}
		switch i {
		case 7:
			text, deleted = "", sql.NullInt64{Int64: now, Valid: true}
		case 20:
			text = "a needle in the haystack"
		}
		exec(`INSERT INTO messages (conversation_id, seq, mod, sender_id, client_msg_id, kind, text, created_at, deleted_at)
			VALUES (1, ?, ?, 2, ?, 'text', ?, ?, ?)`, i+1, i+1, fmt.Sprint("c", i), text, now+int64(i), deleted)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func found(t *testing.T, s *Store, query string) []string {
	t.Helper()
	terms, err := parley.ParseSearch(query)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.SearchMessages(context.Background(), parley.SearchQuery{UserID: 1, Terms: terms, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range page.Messages {
		texts = append(texts, m.Text)
	}
	return texts
}

// openBackfilled opens the store at path (an oldDatabase, closed with the
// test) and waits until the backfill has indexed its messages: searches
// find the oldest and the newest of them.
func openBackfilled(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	testwait.For(t, 30*time.Second, func() bool {
		return slices.Equal(found(t, s, "e 100"), []string{"message 1000", "message 100"})
	}, "the backfill did not index the old messages")
	if got := found(t, s, "needle"); !slices.Equal(got, []string{"a needle in the haystack"}) {
		t.Errorf("found %q", got)
	}
	return s
}

// TestSearchMigration: a database from before search is indexed by the
// backfill after Open, batch by batch, beside sends; an edit of a message
// the backfill has not reached is indexed as it then stands, once.
func TestSearchMigration(t *testing.T) {
	defer func(n int64) { backfillBatch = n }(backfillBatch)
	backfillBatch = 100

	t.Run("Open", func(t *testing.T) {
		openBackfilled(t, oldDatabase(t, 1000))
	})

	// A database whose index has positions (before 00020), every message
	// in it: 00020 builds the index again, and the backfill fills it.
	t.Run("Reindex", func(t *testing.T) {
		path := oldDatabase(t, 1000)
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		migrateTo(t, db, 19)
		for _, q := range []string{
			`INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages WHERE kind = 'text' AND text != ''`,
			`UPDATE search_backfill SET done_from = 1`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '"needle"'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the old index finds %d needles (%v)", n, err)
		}
		db.Close()

		s := openBackfilled(t, path)
		if err := s.write(t.Context(), func(ctx context.Context, tx *wtx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`)
			return err
		}); err != nil {
			t.Errorf("integrity-check: %v", err)
		}
	})

	t.Run("EditBeforeBackfill", func(t *testing.T) {
		s, err := open(t.Context(), oldDatabase(t, 1000))
		if err != nil {
			t.Fatal(err)
		}
		go s.writer()
		defer s.Close()
		ctx := context.Background()
		if got := found(t, s, "needle"); got != nil {
			t.Fatalf("found %q before the backfill", got)
		}
		if _, err := s.EditMessage(ctx, 1, 21, 2, "a pin in the haystack", nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EditMessage(ctx, 1, 31, 2, "the needle, found", nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteMessage(ctx, 1, 41, 2, false, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: 1, SenderID: 1, ClientMsgID: "new",
			Kind: parley.MessageText, Text: "a new needle", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if got := found(t, s, "needle"); !slices.Equal(got, []string{"a new needle"}) {
			t.Fatalf("before the backfill found %q", got)
		}
		s.bg.Go(func() { s.backfill(slog.Default()) })
		s.bg.Wait()
		if got := found(t, s, "needle"); !slices.Equal(got, []string{"a new needle", "the needle, found"}) {
			t.Errorf("after the backfill found %q", got)
		}
		for _, q := range []string{"haystack", `"message 40"`} {
			if got := found(t, s, q); !slices.Equal(got, map[string][]string{"haystack": {"a pin in the haystack"}, `"message 40"`: {"message 409", "message 408", "message 407", "message 406", "message 405", "message 404", "message 403", "message 402", "message 401", "message 400"}}[q]) {
				t.Errorf("%s: found %q", q, got)
			}
		}
	})
}

// TestSearchPlans: a query of only short terms finds the same pages
// whether searchShort walks all messages or the caller's conversations'
// index.
func TestSearchPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func(v int64) { shortStreamShare = v }(shortStreamShare)
	storetest.SearchPlans(t, s, map[string]func(){
		"index":  func() { shortStreamShare = 0 },
		"stream": func() { shortStreamShare = 1 << 40 },
	})
}

// TestSearchIndexLater: new messages wait for the search index until
// indexBatch of them, a search or an idle writer adds them; one edited or
// deleted before that is indexed as it then stands, one edited after by
// the triggers, and the index always matches the messages (FTS5's
// integrity-check compares them), also after the store is opened again.
func TestSearchIndexLater(t *testing.T) {
	defer func(d time.Duration) { indexIdle = d }(indexIdle)
	indexIdle = time.Hour // no idle indexing until the last part
	path := oldDatabase(t, 0)
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ctx := context.Background()
	send := func(id, text string) {
		t.Helper()
		if _, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: 1, SenderID: 1, ClientMsgID: id,
			Kind: parley.MessageText, Text: text, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// indexed counts the index's rows that match q, without a search (which adds the waiting messages).
	indexed := func(q string) int {
		t.Helper()
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?`, trigrams(q)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	intact := func() {
		t.Helper()
		if err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`)
			return err
		}); err != nil {
			t.Fatalf("the search index does not match the messages: %v", err)
		}
	}

	send("a", "alpha one")                                                              // seq 2
	send("b", "alpha two")                                                              // seq 3
	send("c", "gamma")                                                                  // seq 4
	if _, err := s.EditMessage(ctx, 1, 2, 1, "beta one", nil, time.Now()); err != nil { // before it is indexed
		t.Fatal(err)
	}
	if _, err := s.DeleteMessage(ctx, 1, 3, 1, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := indexed("gamma"); n != 0 {
		t.Fatalf("indexed at once: %d", n)
	}
	if got := found(t, s, "alpha"); got != nil {
		t.Errorf("alpha: found %q (edited and deleted)", got)
	}
	for q, want := range map[string][]string{"beta": {"beta one"}, "gamma": {"gamma"}} {
		if got := found(t, s, q); !slices.Equal(got, want) {
			t.Errorf("%s: found %q, want %q", q, got, want)
		}
	}
	intact()

	// Indexed now: an edit goes through the trigger.
	if _, err := s.EditMessage(ctx, 1, 2, 1, "delta one", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, "beta"); got != nil {
		t.Errorf("beta after the edit: found %q", got)
	}
	if got := found(t, s, "delta"); !slices.Equal(got, []string{"delta one"}) {
		t.Errorf("delta: found %q", got)
	}
	intact()

	// A full batch is indexed by the writer itself.
	for i := range indexBatch {
		send(fmt.Sprint("n", i), fmt.Sprintf("needle %d", i))
	}
	if n := indexed("needle"); n != indexBatch {
		t.Errorf("after %d sends %d indexed", indexBatch, n)
	}

	// Messages that waited when the store closed are found after it opens.
	send("o", "omega")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, "omega"); !slices.Equal(got, []string{"omega"}) {
		t.Errorf("omega after reopening: found %q", got)
	}
	intact()

	// An idle writer indexes what waits.
	indexIdle = 20 * time.Millisecond
	s2, err := Open(t.Context(), oldDatabase(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, _, err := s2.AppendMessage(ctx, parley.NewMessage{ConversationID: 1, SenderID: 1, ClientMsgID: "z",
		Kind: parley.MessageText, Text: "zeta", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, func() bool {
		var n int
		err := s2.r.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?`, trigrams("zeta")).Scan(&n)
		return err == nil && n == 1
	}, "the idle writer did not index")
}
