package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/app"
	"parley/pgtest"
	"parley/servertest"
)

// onBothStores runs fn against a node on SQLite and a node on PostgreSQL.
func onBothStores(t *testing.T, fn func(t *testing.T, srv *servertest.Server)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, servertest.Start(t)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		db := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_account_")})
		fn(t, servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.DatabaseURL = db })))
	})
}

// openSocket opens a WebSocket with token and returns a channel that gets
// the error that ends it.
func openSocket(t *testing.T, base, token string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

func login(t *testing.T, base, name, password string) *servertest.API {
	t.Helper()
	r := servertest.Must(t, base, "", "POST", "/api/v1/auth/login", map[string]any{"login": name, "password": password}, 200)
	return &servertest.API{T: t, Base: base, Token: r.Body["token"].(string), UserID: id(r.Obj("user"), "id")}
}

// TestChangePassword: the current password is asked; the other sessions
// end (their sockets close with 4001), the one that asked stays; the new
// password logs in and the old one no longer does.
func TestChangePassword(t *testing.T) {
	onBothStores(t, func(t *testing.T, srv *servertest.Server) {
		alice := servertest.SignUp(t, srv.URL, "alice")
		other := login(t, srv.URL, "alice", "password-alice")
		third := login(t, srv.URL, "alice", "password-alice")
		otherSocket := openSocket(t, srv.URL, other.Token)
		ownSocket := openSocket(t, srv.URL, alice.Token)

		for _, c := range []struct {
			body        map[string]any
			status      int
			code, field string
		}{
			{map[string]any{"current_password": "wrong password", "new_password": "a new password"}, 403, "forbidden", "current_password"},
			{map[string]any{"current_password": "password-alice", "new_password": "short"}, 400, "invalid", "new_password"},
			{map[string]any{"current_password": "password-alice", "new_password": strings.Repeat("p", 129)}, 400, "invalid", "new_password"},
			{map[string]any{"current_password": "password-alice"}, 400, "invalid", "new_password"},
			{map[string]any{"current_password": "password-alice", "new_password": "a new password", "extra": 1}, 400, "invalid", "extra"},
		} {
			r := alice.Do("POST", "/api/v1/me/password", c.body)
			if r.Status != c.status || r.Code() != c.code || r.Field() != c.field {
				t.Errorf("change password %v: %d %s", c.body, r.Status, r.Raw)
			}
		}
		// Nothing changed: every session still works, the old password too.
		other.Must(200, "GET", "/api/v1/me", nil)
		login(t, srv.URL, "alice", "password-alice")
		anon := &servertest.API{T: t, Base: srv.URL}
		anon.Must(401, "POST", "/api/v1/me/password", map[string]any{"current_password": "password-alice", "new_password": "a new password"})

		r := alice.Must(200, "POST", "/api/v1/me/password", map[string]any{"current_password": "password-alice", "new_password": "a new password"})
		if r.Body["revoked"].(float64) != 3 {
			t.Fatalf("revoked %v, want 3 (other, third, and the login above)", r.Body["revoked"])
		}
		select {
		case err := <-otherSocket:
			if websocket.CloseStatus(err) != 4001 {
				t.Fatalf("other session's socket closed with %v, want 4001", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("other session's socket still open 10 s after the password change")
		}
		select {
		case err := <-ownSocket:
			t.Fatalf("the changing session's own socket closed: %v", err)
		default:
		}
		other.Must(401, "GET", "/api/v1/me", nil)
		third.Must(401, "GET", "/api/v1/me", nil)
		alice.Must(200, "GET", "/api/v1/me", nil)
		anon.Must(401, "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "password-alice"})
		login(t, srv.URL, "alice", "a new password")
	})
}

// TestChangePasswordGuessesLimited: wrong current passwords are limited per
// account, so a stolen session cannot guess the password.
func TestChangePasswordGuessesLimited(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	limited := false
	for range 12 {
		r := alice.Do("POST", "/api/v1/me/password", map[string]any{"current_password": "guess", "new_password": "a new password"})
		if r.Code() == "rate_limited" {
			limited = r.Header.Get("Retry-After") != ""
			break
		}
		if r.Code() != "forbidden" {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
	}
	if !limited {
		t.Fatal("12 wrong current passwords were not limited (with Retry-After)")
	}
	// Even the right one waits now.
	if r := alice.Do("POST", "/api/v1/me/password", map[string]any{"current_password": "password-alice", "new_password": "a new password"}); r.Code() != "rate_limited" {
		t.Fatalf("right password while limited: %d %s", r.Status, r.Raw)
	}
}
