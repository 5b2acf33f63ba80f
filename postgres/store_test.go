package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
	"parley/pgtest"
	"parley/postgres"
	"parley/servertest"
	"parley/storetest"
)

// The tests run against the PostgreSQL named by PARLEY_TEST_DATABASE_URL
// (package pgtest). Each store lives in a fresh schema that is dropped when
// its test ends. Without a database the tests skip, unless CI=true, where
// they fail.

func newSchema(t testing.TB) string { return pgtest.Schema(t, "parley_test_") }

// newStore opens a store in a fresh schema, closed and dropped when the test
// ends.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	pgtest.Need(t)
	s, err := postgres.Open(context.Background(), pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": newSchema(t)}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	pgtest.Need(t)
	storetest.Run(t, func(t *testing.T) parley.Store { return newStore(t) })
}

// Nodes starting together apply the migrations once.
func TestMigrateConcurrently(t *testing.T) {
	pgtest.Need(t)
	u := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": newSchema(t)})

	const nodes = 3
	var (
		start  = make(chan struct{})
		wg     sync.WaitGroup
		stores [nodes]*postgres.Store
		errs   [nodes]error
	)
	for i := range nodes {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), u)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	ctx := t.Context()
	rows, err := stores[0].Pool().Query(ctx,
		`SELECT version_id, count(*) FROM goose_db_version GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int64, error) {
		var v [2]int64
		return v, r.Scan(&v[0], &v[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) < 2 {
		t.Fatalf("goose_db_version = %v, want version 0 and the migrations", counts)
	}
	for _, c := range counts {
		if c[1] != 1 {
			t.Fatalf("migration %d recorded %d times, want once (all: %v)", c[0], c[1], counts)
		}
	}

	// Every node works on the one schema.
	for i, s := range stores {
		u := parley.User{Username: fmt.Sprintf("node%d", i)}
		if err := s.CreateUser(ctx, &u, "h"); err != nil {
			t.Fatalf("node %d: CreateUser: %v", i, err)
		}
		if _, err := stores[(i+1)%nodes].User(ctx, u.ID); err != nil {
			t.Fatalf("node %d's user seen from node %d: %v", i, (i+1)%nodes, err)
		}
	}
}

// A database that cannot be reached fails Open with EUNAVAILABLE, and no
// driver text in the message a client would see.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if code := parley.ErrorCode(err); code != parley.EUNAVAILABLE {
		t.Fatalf("Open(port 1): code %q (%v), want %q", code, err, parley.EUNAVAILABLE)
	}
	if msg := parley.ErrorMessage(err); msg != parley.ErrUnavailable.Message {
		t.Fatalf("client message = %q", msg)
	}
}

// When the database goes away, methods fail with EUNAVAILABLE; when it is
// back, the same Store works again.
func TestDatabaseGoesAwayAndComesBack(t *testing.T) {
	pgtest.Need(t)
	network, target := pgtest.Target(t, pgtest.BaseURL())
	p := pgtest.NewProxy(t, network, target)
	u := pgtest.WithParams(t, pgtest.ThroughProxy(t, pgtest.BaseURL(), p.Addr()), map[string]string{
		"search_path": newSchema(t), "connect_timeout": "2",
	})
	s, err := postgres.Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	ctx := t.Context()
	alice := storetest.MustUser(t, s, "alice")
	group := storetest.MustGroup(t, s, "g", alice)

	p.Down()
	call := func(what string, f func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if code := parley.ErrorCode(f(ctx)); code != parley.EUNAVAILABLE {
			t.Fatalf("%s with the database gone: code %q, want %q", what, code, parley.EUNAVAILABLE)
		}
	}
	call("User", func(ctx context.Context) error { _, err := s.User(ctx, alice.ID); return err })
	call("AppendMessage", func(ctx context.Context) error {
		_, _, err := s.AppendMessage(ctx, parley.NewMessage{
			ConversationID: group.ID, SenderID: alice.ID, ClientMsgID: "m1",
			Kind: parley.MessageText, Text: "hello", CreatedAt: time.Now(),
		})
		return err
	})
	call("CreateGroup", func(ctx context.Context) error {
		_, _, err := s.CreateGroup(ctx, "h", "code-h", alice.ID, time.Now())
		return err
	})
	call("Ping", s.Ping)

	p.Up(t)
	servertest.WaitFor(t, 15*time.Second, func() bool {
		_, err := s.User(ctx, alice.ID)
		return err == nil
	}, "User after the database came back")
	storetest.MustSend(t, s, group.ID, alice, "back again")
}

// A server-side termination of the store's connections (57P01
// admin_shutdown, as in a restart) gives EUNAVAILABLE or, when the pool
// notices first, success; never an internal error. The pool then recovers.
func TestConnectionsTerminated(t *testing.T) {
	pgtest.Need(t)
	app := "parley_test_" + strings.TrimPrefix(newSchema(t), "parley_test_")
	u := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": app, "application_name": app})
	s, err := postgres.Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	alice := storetest.MustUser(t, s, "alice")

	// Hold several connections so several are killed.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { s.User(ctx, alice.ID) })
	}
	wg.Wait()

	admin, err := pgtest.Connect(ctx, pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no connection of the store to terminate")
	}
	for i := range 8 {
		_, err := s.User(ctx, alice.ID)
		if code := parley.ErrorCode(err); code != "" && code != parley.EUNAVAILABLE {
			t.Fatalf("call %d after termination: code %q (%v), want success or %q", i, code, err, parley.EUNAVAILABLE)
		}
	}
	servertest.WaitFor(t, 10*time.Second, func() bool {
		_, err := s.User(ctx, alice.ID)
		return err == nil
	}, "User after termination")
}

// A closed store answers EUNAVAILABLE.
func TestClosed(t *testing.T) {
	s := newStore(t)
	s.Close()
	_, err := s.User(t.Context(), 1)
	if code := parley.ErrorCode(err); code != parley.EUNAVAILABLE {
		t.Fatalf("User on a closed store: code %q (%v), want %q", code, err, parley.EUNAVAILABLE)
	}
}
