package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"parley/app"
	"parley/pgtest"
	"parley/servertest"
)

// adminRunner runs `parley admin` with store flags and returns its output
// and error.
type adminRunner struct {
	t     *testing.T
	flags []string
}

func (a adminRunner) run(stdin string, args ...string) (string, error) {
	a.t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"parley", "admin"}, args...)
	full = append(full, a.flags...)
	err := run(context.Background(), full, func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func (a adminRunner) must(stdin string, args ...string) string {
	a.t.Helper()
	out, err := a.run(stdin, args...)
	if err != nil {
		a.t.Fatalf("parley admin %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (a adminRunner) json(args ...string) map[string]any {
	a.t.Helper()
	var v map[string]any
	out := a.must("", append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		a.t.Fatalf("parley admin %s --json: %v: %s", strings.Join(args, " "), err, out)
	}
	return v
}

// Every verb of `parley admin`, on SQLite and on PostgreSQL, against a
// running node on the same store: what the command does, the node sees.
func TestAdminCommand(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		dir := t.TempDir()
		a := adminRunner{t: t, flags: []string{"--data-dir", dir}}
		// Before any node ran: only user create may make the database.
		if _, err := a.run("", "user", "list"); err == nil || !strings.Contains(err.Error(), "no Parley database") {
			t.Fatalf("list on no database: %v", err)
		}
		a.must("password-root\n", "user", "create", "root", "--admin", "--password-stdin")
		// serve on the same folder while the commands run (SQLite, WAL).
		srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.DataDir = dir }))
		testAdminVerbs(t, a, srv)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		db := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_admincli_")})
		a := adminRunner{t: t, flags: []string{"--database-url", db}}
		srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.DatabaseURL = db }))
		if _, err := a.run("", "user", "create", "root", "--admin", "--password-stdin"); err == nil {
			t.Fatal("an empty --password-stdin was taken")
		}
		a.must("password-root\n", "user", "create", "root", "--admin", "--password-stdin")
		testAdminVerbs(t, a, srv)
	})
}

func testAdminVerbs(t *testing.T, a adminRunner, srv *servertest.Server) {
	login := func(name, password string) servertest.Answer {
		return servertest.Do(t, srv.URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": name, "password": password})
	}
	out := a.must("password-alice\n", "user", "create", "alice", "--email", "alice@example.com", "--admin", "--password-stdin")
	if !strings.Contains(out, "Created alice (admin") {
		t.Fatalf("create: %q", out)
	}
	if r := login("alice", "password-alice"); r.Status != 200 || r.Obj("user")["role"] != "admin" {
		t.Fatalf("alice logs in: %d %s", r.Status, r.Raw)
	}
	// Without a password: a one-time link, whole with --url.
	v := a.json("user", "create", "bob", "--url", "https://chat.example.com/")
	link, _ := v["reset_link"].(string)
	if !strings.HasPrefix(link, "https://chat.example.com/reset-password?token=") || v["user"].(map[string]any)["role"] != "member" {
		t.Fatalf("create without a password: %v", v)
	}
	token := strings.TrimPrefix(link, "https://chat.example.com/reset-password?token=")
	servertest.Must(t, srv.URL, "", "POST", "/api/v1/auth/reset-password", map[string]any{"token": token, "password": "password-bob"}, 204)
	bob := login("bob", "password-bob")
	if bob.Status != 200 {
		t.Fatalf("bob: %d", bob.Status)
	}
	if _, err := a.run("", "user", "create", "alice"); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("taken: %v", err)
	}
	if _, err := a.run("", "user", "create", "x"); err == nil || !strings.Contains(err.Error(), "(username)") {
		t.Fatalf("bad name: %v", err)
	}

	out = a.must("", "user", "list")
	for _, want := range []string{"USERNAME", "alice", "alice@example.com", "bob", "admin", "member", "accounts"} {
		if !strings.Contains(out, want) {
			t.Fatalf("list lacks %q:\n%s", want, out)
		}
	}
	if users := a.json("user", "list", "--prefix", "bo")["users"].([]any); len(users) != 1 {
		t.Fatalf("list --prefix bo: %v", users)
	}

	// set-admin, disable, enable: the node sees each at once.
	a.must("", "user", "set-admin", "bob")
	bobAPI := &servertest.API{T: t, Base: srv.URL, Token: bob.Body["token"].(string)}
	bobAPI.Must(200, "GET", "/api/v1/admin/stats", nil)
	if out := a.must("", "user", "set-admin", "bob", "--revoke"); !strings.Contains(out, "bob is now a member") {
		t.Fatalf("revoke: %q", out)
	}
	a.must("", "user", "disable", "bob")
	if r := bobAPI.Do("GET", "/api/v1/me", nil); r.Status != 401 {
		t.Fatalf("disabled bob's session: %d", r.Status)
	}
	if r := login("bob", "password-bob"); r.Status != 403 {
		t.Fatalf("disabled bob logs in: %d", r.Status)
	}
	if u := a.json("user", "enable", "bob")["user"].(map[string]any); u["disabled_at"] != nil {
		t.Fatalf("enable: %v", u)
	}
	if r := login("bob", "password-bob"); r.Status != 200 {
		t.Fatalf("enabled bob logs in: %d", r.Status)
	}

	// reset-password: a link, or a password from standard input.
	if out := a.must("", "user", "reset-password", "bob"); !strings.Contains(out, "/reset-password?token=") {
		t.Fatalf("reset link: %q", out)
	}
	a.must("new-password-bob\n", "user", "reset-password", "bob", "--password-stdin")
	if r := login("bob", "new-password-bob"); r.Status != 200 {
		t.Fatalf("bob's new password: %d", r.Status)
	}
	if _, err := a.run("short\n", "user", "reset-password", "bob", "--password-stdin"); err == nil {
		t.Fatal("a short password was set")
	}

	// Invitations work at the node's sign-up.
	inv := a.json("invite", "create", "--uses", "2", "--expires", "2h")
	if i := inv["invitation"].(map[string]any); i["max_uses"] != 2.0 || !strings.Contains(inv["link"].(string), "/signup?invite=") {
		t.Fatalf("invite: %v", inv)
	}
	for _, bad := range [][]string{{"--uses", "0"}, {"--uses", "1001"}, {"--expires", "10m"}} {
		if _, err := a.run("", append([]string{"invite", "create"}, bad...)...); err == nil {
			t.Errorf("invite create %v: no error", bad)
		}
	}

	// stats.
	st := a.json("stats")["stats"].(map[string]any)
	if st["users"] != 3.0 || st["admins"] != 2.0 || st["database_bytes"].(float64) <= 0 {
		t.Fatalf("stats: %v", st)
	}
	if out := a.must("", "stats"); !strings.Contains(out, "users          3") {
		t.Fatalf("stats: %q", out)
	}

	// delete needs --yes.
	if _, err := a.run("", "user", "delete", "bob"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("delete without --yes: %v", err)
	}
	a.must("", "user", "delete", "bob", "--yes")
	if r := login("bob", "new-password-bob"); r.Status != 401 {
		t.Fatalf("deleted bob logs in: %d", r.Status)
	}

	// Errors: non-zero, clear.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "disable", "nobody"}, `no account named "nobody"`},
		{[]string{"user", "disable"}, "needs the account's username"},
		{[]string{"stats", "extra"}, "takes no arguments"},
		{[]string{"user", "frob", "x"}, "unknown verb"},
		{[]string{"user", "list", "--nope"}, "flag provided but not defined"},
	} {
		if _, err := a.run("", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
