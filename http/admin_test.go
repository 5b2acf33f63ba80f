package http_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/app"
	"parley/pgtest"
	"parley/servertest"
	"parley/service"
)

// onBothStoresWith runs f on a SQLite node and on a PostgreSQL node (a fresh
// schema), each started with opts.
func onBothStoresWith(t *testing.T, f func(t *testing.T, srv *servertest.Server), opts ...servertest.Option) {
	t.Run("SQLite", func(t *testing.T) { f(t, servertest.Start(t, opts...)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		db := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_admin_")})
		f(t, servertest.Start(t, append(opts, servertest.WithConfig(func(c *app.Config) { c.DatabaseURL = db }))...))
	})
}

func signupPolicy(policy string, byMembers bool) servertest.Option {
	return servertest.WithConfig(func(c *app.Config) {
		c.Service.Signup, c.Service.InvitesByMembers = policy, byMembers
	})
}

func tryLogin(t *testing.T, base, name, password string) servertest.Answer {
	t.Helper()
	return servertest.Do(t, base, "", "POST", "/api/v1/auth/login", map[string]any{"login": name, "password": password})
}

// The first account is the instance's admin; GET /me shows the role, and
// only admins reach the admin routes.
func TestAdminUsers(t *testing.T) {
	onBothStoresWith(t, func(t *testing.T, srv *servertest.Server) {
		alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
		if r := alice.Must(200, "GET", "/api/v1/me", nil); r.Obj("user")["role"] != "admin" {
			t.Fatalf("first user: %s", r.Raw)
		}
		if r := bob.Must(200, "GET", "/api/v1/me", nil); r.Obj("user")["role"] != "member" {
			t.Fatalf("second user: %s", r.Raw)
		}
		// Others never see the role.
		if r := bob.Must(200, "GET", "/api/v1/users/alice", nil); r.Obj("user")["role"] != nil {
			t.Fatalf("role shown to another: %s", r.Raw)
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/admin/users", nil}, {"POST", "/api/v1/admin/users", map[string]any{"username": "xyz"}},
			{"PATCH", "/api/v1/admin/users/2", map[string]any{"admin": true}}, {"DELETE", "/api/v1/admin/users/1", nil},
			{"POST", "/api/v1/admin/users/1/reset-link", nil}, {"GET", "/api/v1/admin/stats", nil}, {"GET", "/api/v1/admin/reports", nil},
			{"POST", "/api/v1/admin/reports/1", map[string]any{"action": "dismiss"}}, {"GET", "/api/v1/invitations", nil},
			{"POST", "/api/v1/invitations", map[string]any{}}, {"DELETE", "/api/v1/invitations/1", nil},
		} {
			body := c.body
			if r := bob.Do(c.method, c.path, body); r.Status != 403 || r.Code() != "forbidden" {
				t.Errorf("member %s %s: %d %s", c.method, c.path, r.Status, r.Raw)
			}
			anon := &servertest.API{T: t, Base: srv.URL}
			if r := anon.Do(c.method, c.path, body); r.Status != 401 {
				t.Errorf("anonymous %s %s: %d", c.method, c.path, r.Status)
			}
		}

		// Users, with email, role, last seen and disabled; search and pages.
		r := alice.Must(201, "POST", "/api/v1/admin/users", map[string]any{"username": "Carol", "email": "carol@example.com", "password": "password-carol"})
		carol := r.Obj("user")
		if carol["username"] != "carol" || carol["role"] != "member" || r.Body["reset_path"] != nil {
			t.Fatalf("created: %s", r.Raw)
		}
		if r := tryLogin(t, srv.URL, "carol", "password-carol"); r.Status != 200 {
			t.Fatalf("carol logs in: %d %s", r.Status, r.Raw)
		}
		r = alice.Must(201, "POST", "/api/v1/admin/users", map[string]any{"username": "dave", "admin": true})
		davePath, _ := r.Body["reset_path"].(string)
		if r.Obj("user")["role"] != "admin" || !strings.HasPrefix(davePath, "/reset-password?token=") {
			t.Fatalf("created without a password: %s", r.Raw)
		}
		if r := alice.Do("POST", "/api/v1/admin/users", map[string]any{"username": "carol"}); r.Status != 409 || r.Code() != "username_taken" {
			t.Errorf("taken: %d %s", r.Status, r.Raw)
		}
		for _, bad := range []map[string]any{{"username": "x"}, {"username": "erin", "password": "short"}, {"username": "erin", "email": "nope"}} {
			if r := alice.Do("POST", "/api/v1/admin/users", bad); r.Status != 400 || r.Code() != "invalid" {
				t.Errorf("create %v: %d %s", bad, r.Status, r.Raw)
			}
		}
		list := alice.Must(200, "GET", "/api/v1/admin/users", nil).Body["users"].([]any)
		if len(list) != 4 {
			t.Fatalf("users: %d", len(list))
		}
		first := list[0].(map[string]any)
		if first["username"] != "alice" || first["email"] != "alice@example.com" || first["role"] != "admin" || first["created_at"] == nil {
			t.Fatalf("listed: %v", first)
		}
		r = alice.Must(200, "GET", "/api/v1/admin/users?prefix=CA", nil)
		if l := r.Body["users"].([]any); len(l) != 1 || l[0].(map[string]any)["username"] != "carol" {
			t.Fatalf("prefix: %s", r.Raw)
		}
		r = alice.Must(200, "GET", fmt.Sprintf("/api/v1/admin/users?after_id=%d&limit=2", bob.UserID), nil)
		if l := r.Body["users"].([]any); len(l) != 2 || l[0].(map[string]any)["username"] != "carol" {
			t.Fatalf("page: %s", r.Raw)
		}
		for _, q := range []string{"limit=201", "after_id=-1", "limit=x"} {
			if r := alice.Do("GET", "/api/v1/admin/users?"+q, nil); r.Status != 400 {
				t.Errorf("%s: %d", q, r.Status)
			}
		}

		// Roles.
		bobPath := fmt.Sprintf("/api/v1/admin/users/%d", bob.UserID)
		if r := alice.Must(200, "PATCH", bobPath, map[string]any{"admin": true}); r.Obj("user")["role"] != "admin" {
			t.Fatalf("promoted: %s", r.Raw)
		}
		bob.Must(200, "GET", "/api/v1/admin/stats", nil)
		alice.Must(200, "PATCH", bobPath, map[string]any{"admin": false})
		if r := bob.Do("GET", "/api/v1/admin/stats", nil); r.Status != 403 {
			t.Fatalf("demoted admin: %d", r.Status)
		}
		alicePath := fmt.Sprintf("/api/v1/admin/users/%d", alice.UserID)
		if r := alice.Do("PATCH", alicePath, map[string]any{"admin": false}); r.Status != 400 || r.Field() != "admin" {
			t.Errorf("own role: %d %s", r.Status, r.Raw)
		}
		if r := alice.Do("PATCH", alicePath, map[string]any{"disabled": true}); r.Status != 400 || r.Field() != "disabled" {
			t.Errorf("disable self: %d %s", r.Status, r.Raw)
		}
		if r := alice.Do("PATCH", bobPath, map[string]any{}); r.Status != 400 {
			t.Errorf("empty patch: %d", r.Status)
		}
		if r := alice.Do("PATCH", "/api/v1/admin/users/99999", map[string]any{"disabled": true}); r.Status != 404 {
			t.Errorf("unknown user: %d", r.Status)
		}

		// Disabled: sessions end (the socket closes with 4001), login
		// refused, enabled again.
		bobSocket := openSocket(t, srv.URL, bob.Token)
		r = alice.Must(200, "PATCH", bobPath, map[string]any{"disabled": true})
		select {
		case err := <-bobSocket:
			if websocket.CloseStatus(err) != 4001 {
				t.Fatalf("disabled user's socket: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a disabled user's socket stays open")
		}
		if r.Obj("user")["disabled_at"] == nil {
			t.Fatalf("disabled: %s", r.Raw)
		}
		if r := bob.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("disabled user's session: %d", r.Status)
		}
		if r := tryLogin(t, srv.URL, "bob", "password-bob"); r.Status != 403 || r.Code() != "forbidden" {
			t.Fatalf("disabled user's login: %d %s", r.Status, r.Raw)
		}
		if r := tryLogin(t, srv.URL, "bob", "wrong-password"); r.Status != 401 {
			t.Fatalf("disabled user, wrong password: %d", r.Status)
		}
		r = alice.Must(200, "GET", "/api/v1/admin/users?prefix=bob", nil)
		if u := r.Body["users"].([]any)[0].(map[string]any); u["disabled_at"] == nil {
			t.Fatalf("listed disabled user: %v", u)
		}
		if r := alice.Must(200, "PATCH", bobPath, map[string]any{"disabled": false}); r.Obj("user")["disabled_at"] != nil {
			t.Fatalf("enabled: %s", r.Raw)
		}
		if r := tryLogin(t, srv.URL, "bob", "password-bob"); r.Status != 200 {
			t.Fatalf("enabled user's login: %d", r.Status)
		}

		// A reset link: once, every session ends.
		r = alice.Must(200, "POST", fmt.Sprintf("/api/v1/admin/users/%d/reset-link", bob.UserID), nil)
		path := r.Body["reset_path"].(string)
		token := strings.TrimPrefix(path, "/reset-password?token=")
		bob2 := tryLogin(t, srv.URL, "bob", "password-bob").Body["token"].(string)
		anon := &servertest.API{T: t, Base: srv.URL}
		if r := anon.Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": token, "password": "short"}); r.Status != 400 || r.Field() != "password" {
			t.Errorf("short password: %d %s", r.Status, r.Raw)
		}
		anon.Must(204, "POST", "/api/v1/auth/reset-password", map[string]any{"token": token, "password": "new-password-bob"})
		if r := servertest.Do(t, srv.URL, bob2, "GET", "/api/v1/me", nil); r.Status != 401 {
			t.Errorf("session after reset: %d", r.Status)
		}
		if r := tryLogin(t, srv.URL, "bob", "password-bob"); r.Status != 401 {
			t.Errorf("old password: %d", r.Status)
		}
		if r := tryLogin(t, srv.URL, "bob", "new-password-bob"); r.Status != 200 {
			t.Errorf("new password: %d", r.Status)
		}
		for _, tok := range []string{token, "nonsense", ""} {
			if r := anon.Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "password-x1"}); r.Status != 400 || r.Field() != "token" {
				t.Errorf("reset with %q: %d %s", tok, r.Status, r.Raw)
			}
		}
		// The link made with dave's account sets his first password.
		anon.Must(204, "POST", "/api/v1/auth/reset-password", map[string]any{"token": strings.TrimPrefix(davePath, "/reset-password?token="), "password": "password-dave"})
		if r := tryLogin(t, srv.URL, "dave", "password-dave"); r.Status != 200 {
			t.Errorf("dave: %d", r.Status)
		}
		if r := alice.Do("POST", "/api/v1/admin/users/99999/reset-link", nil); r.Status != 404 {
			t.Errorf("reset link of nobody: %d", r.Status)
		}

		// Deleting an account: gone from the list, its login with it.
		erin := alice.Must(201, "POST", "/api/v1/admin/users", map[string]any{"username": "erin", "password": "password-erin"}).Obj("user")
		if r := alice.Do("DELETE", fmt.Sprintf("/api/v1/admin/users/%d", alice.UserID), nil); r.Status != 400 {
			t.Errorf("delete self: %d", r.Status)
		}
		alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/admin/users/%d", id(erin, "id")), nil)
		if r := tryLogin(t, srv.URL, "erin", "password-erin"); r.Status != 401 {
			t.Errorf("deleted account's login: %d", r.Status)
		}
		if r := alice.Do("DELETE", fmt.Sprintf("/api/v1/admin/users/%d", id(erin, "id")), nil); r.Status != 404 {
			t.Errorf("deleted twice: %d", r.Status)
		}
		if r := alice.Must(200, "GET", "/api/v1/admin/users?prefix=erin", nil); len(r.Body["users"].([]any)) != 0 {
			t.Errorf("deleted account listed: %s", r.Raw)
		}

		// Figures.
		g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
		alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id(g, "id")), map[string]any{"client_msg_id": "m1", "text": "hi"})
		r = alice.Must(200, "GET", "/api/v1/admin/stats", nil)
		st := r.Obj("stats")
		if st["users"] != 4.0 || st["admins"] != 2.0 || st["conversations"] != 1.0 || st["groups"] != 1.0 || st["messages"] != 2.0 ||
			st["database_bytes"].(float64) <= 0 || r.Body["signup"] != "open" {
			t.Fatalf("stats: %s", r.Raw)
		}
	})
}

// Sign-up policies: open (the default), invite (an invitation's code,
// with uses and expiry) and closed (admins create accounts).
func TestSignupPolicies(t *testing.T) {
	signup := func(base, name, invite string) servertest.Answer {
		body := map[string]any{"username": name, "email": name + "@example.com", "password": "password-" + name}
		if invite != "" {
			body["invite"] = invite
		}
		return servertest.Do(t, base, "", "POST", "/api/v1/auth/signup", body)
	}
	t.Run("Closed", func(t *testing.T) {
		onBothStoresWith(t, func(t *testing.T, srv *servertest.Server) {
			if f := servertest.Must(t, srv.URL, "", "GET", "/api/v1/features", nil, 200); f.Body["signup"] != "closed" {
				t.Fatalf("features: %s", f.Raw)
			}
			if r := signup(srv.URL, "alice", ""); r.Status != 403 || r.Code() != "forbidden" {
				t.Fatalf("closed sign-up: %d %s", r.Status, r.Raw)
			}
			// The first admin comes from `parley admin`; then admins create accounts.
			_, _, err := srv.Node.Service.CreateAccount(t.Context(), operator(), "root", "", "password-root", true)
			if err != nil {
				t.Fatal(err)
			}
			root := &servertest.API{T: t, Base: srv.URL, Token: tryLogin(t, srv.URL, "root", "password-root").Body["token"].(string)}
			root.Must(201, "POST", "/api/v1/admin/users", map[string]any{"username": "bob", "password": "password-bob"})
			if r := tryLogin(t, srv.URL, "bob", "password-bob"); r.Status != 200 {
				t.Fatalf("created account: %d", r.Status)
			}
			if r := root.Do("POST", "/api/v1/invitations", map[string]any{}); r.Status != 201 {
				t.Fatalf("admins may still invite: %d", r.Status)
			}
		}, signupPolicy("closed", false))
	})
	t.Run("Invite", func(t *testing.T) {
		onBothStoresWith(t, func(t *testing.T, srv *servertest.Server) {
			if r := signup(srv.URL, "alice", ""); r.Status != 403 || r.Field() != "invite" {
				t.Fatalf("without an invitation: %d %s", r.Status, r.Raw)
			}
			if _, _, err := srv.Node.Service.CreateAccount(t.Context(), operator(), "alice", "alice@example.com", "password-alice", true); err != nil {
				t.Fatal(err)
			}
			alice := &servertest.API{T: t, Base: srv.URL, Token: tryLogin(t, srv.URL, "alice", "password-alice").Body["token"].(string)}
			inv := alice.Must(201, "POST", "/api/v1/invitations", map[string]any{"max_uses": 2, "expires_in_hours": 2}).Obj("invitation")
			code := inv["code"].(string)
			if inv["max_uses"] != 2.0 || inv["uses"] != 0.0 || inv["creator"] != "alice" || len(code) < 20 {
				t.Fatalf("invitation: %v", inv)
			}
			if r := signup(srv.URL, "bob", "wrong-code"); r.Status != 400 || r.Field() != "invite" {
				t.Fatalf("wrong code: %d %s", r.Status, r.Raw)
			}
			if r := signup(srv.URL, "bob", code); r.Status != 201 || r.Obj("user")["role"] != "member" {
				t.Fatalf("invited: %d %s", r.Status, r.Raw)
			}
			if r := signup(srv.URL, "bob", code); r.Code() != "username_taken" {
				t.Fatalf("taken name: %s", r.Raw)
			}
			signup(srv.URL, "carol", code)
			if r := signup(srv.URL, "dave", code); r.Status != 400 || r.Field() != "invite" {
				t.Fatalf("used up: %d %s", r.Status, r.Raw)
			}
			list := alice.Must(200, "GET", "/api/v1/invitations", nil).Body["invitations"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["uses"] != 2.0 {
				t.Fatalf("list: %v", list)
			}
			// Expiry: an invitation whose time has passed (stored as such).
			past := parley.Invitation{Code: "expired-code", CreatedAt: time.Now().Add(-2 * time.Hour), ExpiresAt: time.Now().Add(-time.Hour), MaxUses: 5}
			if err := srv.Node.Store.CreateInvitation(t.Context(), &past); err != nil {
				t.Fatal(err)
			}
			if r := signup(srv.URL, "dave", "expired-code"); r.Status != 400 || r.Field() != "invite" {
				t.Fatalf("expired: %d %s", r.Status, r.Raw)
			}
			inv2 := alice.Must(201, "POST", "/api/v1/invitations", map[string]any{"expires_in_hours": 1}).Obj("invitation")
			// Revoked.
			r := alice.Must(200, "DELETE", fmt.Sprintf("/api/v1/invitations/%d", id(inv2, "id")), nil)
			if r.Obj("invitation")["revoked_at"] == nil {
				t.Fatalf("revoked: %s", r.Raw)
			}
			if r := signup(srv.URL, "dave", inv2["code"].(string)); r.Status != 400 {
				t.Fatalf("revoked: %d", r.Status)
			}
			if r := alice.Do("DELETE", "/api/v1/invitations/99999", nil); r.Status != 404 {
				t.Errorf("revoke unknown: %d", r.Status)
			}
			for _, bad := range []map[string]any{{"max_uses": 1001}, {"max_uses": -1}, {"expires_in_hours": 2161}, {"expires_in_hours": -1}, {"max_uses": "x"}} {
				if r := alice.Do("POST", "/api/v1/invitations", bad); r.Status != 400 {
					t.Errorf("invitation %v: %d %s", bad, r.Status, r.Raw)
				}
			}
			// Members may not invite here.
			bob := &servertest.API{T: t, Base: srv.URL, Token: tryLogin(t, srv.URL, "bob", "password-bob").Body["token"].(string)}
			if r := bob.Do("POST", "/api/v1/invitations", map[string]any{}); r.Status != 403 {
				t.Errorf("member invites: %d", r.Status)
			}
		}, signupPolicy("invite", false))
	})
	t.Run("InvitesByMembers", func(t *testing.T) {
		srv := servertest.Start(t, signupPolicy("invite", true))
		if _, _, err := srv.Node.Service.CreateAccount(t.Context(), operator(), "alice", "", "password-alice", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := srv.Node.Service.CreateAccount(t.Context(), operator(), "bob", "", "password-bob", false); err != nil {
			t.Fatal(err)
		}
		alice := &servertest.API{T: t, Base: srv.URL, Token: tryLogin(t, srv.URL, "alice", "password-alice").Body["token"].(string)}
		bob := &servertest.API{T: t, Base: srv.URL, Token: tryLogin(t, srv.URL, "bob", "password-bob").Body["token"].(string)}
		mine := bob.Must(201, "POST", "/api/v1/invitations", map[string]any{}).Obj("invitation")
		theirs := alice.Must(201, "POST", "/api/v1/invitations", map[string]any{}).Obj("invitation")
		if l := bob.Must(200, "GET", "/api/v1/invitations", nil).Body["invitations"].([]any); len(l) != 1 {
			t.Fatalf("a member sees %d invitations, want their own", len(l))
		}
		if l := alice.Must(200, "GET", "/api/v1/invitations", nil).Body["invitations"].([]any); len(l) != 2 {
			t.Fatalf("an admin sees %d invitations", len(l))
		}
		if r := bob.Do("DELETE", fmt.Sprintf("/api/v1/invitations/%d", id(theirs, "id")), nil); r.Status != 404 {
			t.Errorf("member revokes another's: %d", r.Status)
		}
		bob.Must(200, "DELETE", fmt.Sprintf("/api/v1/invitations/%d", id(mine, "id")), nil)
		if r := signup(srv.URL, "carol", theirs["code"].(string)); r.Status != 201 {
			t.Fatalf("sign-up: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("Open", func(t *testing.T) {
		srv := servertest.Start(t)
		if r := signup(srv.URL, "alice", "any-code-at-all"); r.Status != 201 {
			t.Fatalf("open sign-up ignores invite: %d %s", r.Status, r.Raw)
		}
	})
}

// Reports: a member reports a message; admins see it with its context and
// delete the message, disable its sender or dismiss it.
func TestReports(t *testing.T) {
	onBothStoresWith(t, func(t *testing.T, srv *servertest.Server) {
		admin := servertest.SignUp(t, srv.URL, "admin")
		alice, bob, eve := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "eve")
		g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "reports-g"}).Obj("conversation")
		gid := id(g, "id")
		bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "reports-g"})
		msgs := fmt.Sprintf("/api/v1/conversations/%d/messages", gid)
		var seqs []int64
		for i, text := range []string{"hello", "spam spam", "more spam", "bye"} {
			m := bob.Must(201, "POST", msgs, map[string]any{"client_msg_id": fmt.Sprint("b", i), "text": text}).Obj("message")
			seqs = append(seqs, id(m, "seq"))
		}
		report := func(who *servertest.API, seq int64, reason string) servertest.Answer {
			return who.Do("POST", fmt.Sprintf("%s/%d/report", msgs, seq), map[string]any{"reason": reason})
		}
		r := report(alice, seqs[1], "spam")
		if r.Status != 201 || r.Obj("report")["reason"] != "spam" || r.Obj("report")["seq"] != float64(seqs[1]) {
			t.Fatalf("report: %d %s", r.Status, r.Raw)
		}
		if again := report(alice, seqs[1], "other"); again.Status != 200 || id(again.Obj("report"), "id") != id(r.Obj("report"), "id") {
			t.Fatalf("again: %d %s", again.Status, again.Raw)
		}
		if r := report(eve, seqs[1], ""); r.Status != 404 {
			t.Errorf("non-member: %d", r.Status)
		}
		if r := report(alice, 1, ""); r.Status != 400 { // the group's created message
			t.Errorf("system message: %d %s", r.Status, r.Raw)
		}
		if r := report(alice, 999, ""); r.Status != 404 {
			t.Errorf("no such message: %d", r.Status)
		}
		if r := report(alice, seqs[0], strings.Repeat("x", 501)); r.Status != 400 || r.Field() != "reason" {
			t.Errorf("long reason: %d %s", r.Status, r.Raw)
		}
		report(alice, seqs[2], "")
		report(admin, seqs[3], "") // admin is no member
		list := admin.Must(200, "GET", "/api/v1/admin/reports", nil).Body["reports"].([]any)
		if len(list) != 2 {
			t.Fatalf("open reports: %v", list)
		}
		first := list[1].(map[string]any)
		if first["text"] != "spam spam" || first["reporter"].(map[string]any)["username"] != "alice" ||
			first["sender"].(map[string]any)["username"] != "bob" || len(first["context"].([]any)) != 5 {
			t.Fatalf("listed report: %v", first)
		}
		if r := admin.Do("GET", "/api/v1/admin/reports?status=nope", nil); r.Status != 400 {
			t.Errorf("bad status: %d", r.Status)
		}
		path := func(r map[string]any) string { return fmt.Sprintf("/api/v1/admin/reports/%d", id(r, "id")) }
		if r := admin.Do("POST", path(first), map[string]any{"action": "shout"}); r.Status != 400 || r.Field() != "action" {
			t.Errorf("bad action: %d %s", r.Status, r.Raw)
		}
		// Delete the message: members see it deleted.
		r = admin.Must(200, "POST", path(first), map[string]any{"action": "delete_message"})
		if rep := r.Obj("report"); rep["action"] != "delete_message" || rep["resolved_at"] == nil {
			t.Fatalf("resolved: %s", r.Raw)
		}
		h := alice.Must(200, "GET", fmt.Sprintf("%s?around_seq=%d&limit=1", msgs, seqs[1]), nil).Body["messages"].([]any)
		if m := h[0].(map[string]any); m["deleted_at"] == nil || m["text"] != "" {
			t.Fatalf("deleted message: %v", m)
		}
		if r := admin.Do("POST", path(first), map[string]any{"action": "dismiss"}); r.Status != 409 {
			t.Errorf("twice: %d", r.Status)
		}
		// Disable the sender.
		second := list[0].(map[string]any)
		admin.Must(200, "POST", path(second), map[string]any{"action": "disable_user"})
		if r := bob.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Errorf("sender after disable_user: %d", r.Status)
		}
		if l := admin.Must(200, "GET", "/api/v1/admin/reports", nil).Body["reports"].([]any); len(l) != 0 {
			t.Errorf("open after both: %d", len(l))
		}
		if l := admin.Must(200, "GET", "/api/v1/admin/reports?status=resolved", nil).Body["reports"].([]any); len(l) != 2 {
			t.Errorf("resolved: %d", len(l))
		}
		if r := admin.Must(200, "GET", "/api/v1/admin/stats", nil); r.Obj("stats")["open_reports"] != 0.0 || r.Obj("stats")["disabled"] != 1.0 {
			t.Errorf("stats: %s", r.Raw)
		}
	})
}

// Reports per person are limited.
func TestReportRateLimit(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	msgs := fmt.Sprintf("/api/v1/conversations/%d/messages", id(d, "id"))
	for i := range 21 {
		bob.Must(201, "POST", msgs, map[string]any{"client_msg_id": fmt.Sprint("m", i), "text": "x"})
	}
	for i := 1; i <= 21; i++ {
		r := alice.Do("POST", fmt.Sprintf("%s/%d/report", msgs, i), map[string]any{})
		if want := 201; i > 20 {
			if r.Status != 429 || r.Code() != "rate_limited" {
				t.Fatalf("report %d: %d %s", i, r.Status, r.Raw)
			}
		} else if r.Status != want {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Raw)
		}
	}
}

// operator is the actor of `parley admin`.
func operator() parley.User { return service.Operator }
