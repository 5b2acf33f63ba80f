package service_test

import (
	"context"
	"path/filepath"
	"testing"

	"parley"
	"parley/hub"
	"parley/pgtest"
	"parley/postgres"
	"parley/service"
	"parley/sqlite"
)

// The service's rules are tested on real stores: SQLite files for all of
// them, and PostgreSQL (a fresh schema per test, package pgtest) for the
// rules that lean on what each store returns.

// env is a service on a fresh store and an in-process bus.
type env struct {
	t     *testing.T
	ctx   context.Context
	store parley.Store
	bus   parley.Bus
	svc   *service.Service
	sent  int // client_msg_ids used by send
}

// newEnv starts a service on store with cfg (password hashing at the
// least cost).
func newEnv(t *testing.T, store parley.Store, cfg service.Config) *env {
	t.Helper()
	bus := hub.NewBus()
	t.Cleanup(func() { bus.Close() })
	cfg.Hash = service.HashParams{Memory: 8 * 1024, Time: 1}
	svc, err := service.New(store, bus, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: t.Context(), store: store, bus: bus, svc: svc}
}

// sqliteEnv is a service with cfg on a fresh SQLite database.
func sqliteEnv(t *testing.T, cfg service.Config) *env { return newEnv(t, openSQLite(t), cfg) }

// newService is a service with cfg on a fresh SQLite database, and the store.
func newService(t *testing.T, cfg service.Config) (*service.Service, parley.Store) {
	e := sqliteEnv(t, cfg)
	return e.svc, e.store
}

func openSQLite(t *testing.T) parley.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) parley.Store {
	t.Helper()
	url := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_service_")})
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// onEveryStore runs f on SQLite and on PostgreSQL.
func onEveryStore(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv(t, openSQLite(t), service.Config{})) })
	t.Run("postgres", func(t *testing.T) { f(t, newEnv(t, openPostgres(t), service.Config{})) })
}

// user signs someone up.
func (e *env) user(name string) parley.User {
	e.t.Helper()
	u, err := e.svc.Signup(e.ctx, name, name+"@example.com", "password-"+name, "", "192.0.2.1")
	if err != nil {
		e.t.Fatalf("signup %s: %v", name, err)
	}
	return u
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// TestResendWithOtherText: a client_msg_id names one message. Resending it
// with the same text returns the original; with other text it is refused
// and nothing is stored; once the original is edited or deleted any resend
// returns it as it now is.
func TestResendWithOtherText(t *testing.T) {
	onEveryStore(t, func(t *testing.T, e *env) {
		alice, bob := e.user("alice"), e.user("bob")
		c, _, err := e.svc.Direct(e.ctx, alice.ID, bob.Username)
		if err != nil {
			t.Fatal(err)
		}
		m, created, err := e.svc.Send(e.ctx, alice.ID, c.ID, "c1", "hello")
		if err != nil || !created {
			t.Fatalf("send: %v %v", created, err)
		}
		again, created, err := e.svc.Send(e.ctx, alice.ID, c.ID, "c1", "hello")
		if err != nil || created || again.Seq != m.Seq {
			t.Fatalf("resend: %+v %v %v", again, created, err)
		}
		_, _, err = e.svc.Send(e.ctx, alice.ID, c.ID, "c1", "goodbye")
		wantCode(t, err, parley.ECLIENTMSGID)
		if f := parley.ErrorField(err); f != "client_msg_id" {
			t.Fatalf("field %q", f)
		}
		// Another sender's c1 is another message.
		if _, created, err := e.svc.Send(e.ctx, bob.ID, c.ID, "c1", "goodbye"); err != nil || !created {
			t.Fatalf("bob's c1: %v %v", created, err)
		}
		msgs, _, err := e.svc.History(e.ctx, alice.ID, c.ID, parley.MessageQuery{})
		if err != nil || len(msgs) != 2 || msgs[0].Text != "hello" || msgs[1].Text != "goodbye" {
			t.Fatalf("history %+v %v", msgs, err)
		}

		if _, err := e.svc.Edit(e.ctx, alice.ID, c.ID, m.Seq, "hello, edited"); err != nil {
			t.Fatal(err)
		}
		got, created, err := e.svc.Send(e.ctx, alice.ID, c.ID, "c1", "hello")
		if err != nil || created || got.Text != "hello, edited" {
			t.Fatalf("resend after edit: %+v %v %v", got, created, err)
		}
	})
}
