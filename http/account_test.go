package http_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// TestDeleteAccount: the password is asked again; the account's sessions
// end (sockets 4001), its groups go on without it (ownership handed over),
// its messages stay from "Deleted account", its direct chats take no more
// messages, and its username stays taken (retired) while its email is free.
func TestDeleteAccount(t *testing.T) {
	onBothStores(t, func(t *testing.T, srv *servertest.Server) {
		alice := servertest.SignUp(t, srv.URL, "alice")
		bob := servertest.SignUp(t, srv.URL, "bob")
		g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Club", "code": "club-code"}).Obj("conversation")
		gid := id(g, "id")
		bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "club-code"})
		alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": "1", "text": "hello club"})
		d := bob.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "alice"}).Obj("conversation")
		did := id(d, "id")
		alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", did), map[string]any{"client_msg_id": "2", "text": "hello bob"})
		socket := openSocket(t, srv.URL, alice.Token)

		for _, c := range []struct {
			body        map[string]any
			status      int
			code, field string
		}{
			{map[string]any{"password": "wrong password"}, 403, "forbidden", "password"},
			{map[string]any{}, 403, "forbidden", "password"},
			{map[string]any{"password": "password-alice", "really": true}, 400, "invalid", "really"},
		} {
			r := alice.Do("POST", "/api/v1/me/delete", c.body)
			if r.Status != c.status || r.Code() != c.code || r.Field() != c.field {
				t.Errorf("delete account %v: %d %s", c.body, r.Status, r.Raw)
			}
		}
		alice.Must(200, "GET", "/api/v1/me", nil)

		r := alice.Must(204, "POST", "/api/v1/me/delete", map[string]any{"password": "password-alice"})
		if c := strings.Join(r.Header.Values("Set-Cookie"), "; "); !strings.Contains(c, "parley_session=;") || !strings.Contains(c, "Max-Age=0") {
			t.Fatalf("cookies after deletion: %q", c)
		}
		select {
		case err := <-socket:
			if websocket.CloseStatus(err) != 4001 {
				t.Fatalf("socket closed with %v, want 4001", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("socket still open 10 s after the deletion")
		}
		alice.Must(401, "GET", "/api/v1/me", nil)
		anon := &servertest.API{T: t, Base: srv.URL}
		anon.Must(401, "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "password-alice"})

		// Bob's view.
		var peer map[string]any
		for _, c := range bob.Must(200, "GET", "/api/v1/conversations", nil).Body["conversations"].([]any) {
			if c := c.(map[string]any); id(c, "id") == did {
				peer = c["peer"].(map[string]any)
			}
		}
		if peer == nil || peer["deleted"] != true || peer["display_name"] != "Deleted account" || !strings.HasPrefix(peer["username"].(string), "~") {
			t.Fatalf("bob's direct chat peer after the deletion: %v", peer)
		}
		if r := bob.Do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", did), map[string]any{"client_msg_id": "3", "text": "still there?"}); r.Code() != "not_accepting" {
			t.Fatalf("send to a deleted account: %d %s", r.Status, r.Raw)
		}
		hist := bob.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil).Body["messages"].([]any)
		var said, left bool
		for _, m := range hist {
			m := m.(map[string]any)
			sender, _ := m["sender"].(map[string]any)
			if m["text"] == "hello club" {
				said = sender["display_name"] == "Deleted account"
			}
			if sys, _ := m["system"].(map[string]any); sys != nil && sys["event"] == "left" {
				left = true
			}
		}
		if !said || !left {
			t.Fatalf("group history after the deletion (message from Deleted account %v, left %v): %v", said, left, hist)
		}
		for _, m := range bob.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/members", gid), nil).Body["members"].([]any) {
			if m := m.(map[string]any); m["username"] != "bob" || m["role"] != "owner" {
				t.Fatalf("Club's members after its owner's deletion: %v", m)
			}
		}
		if r := bob.Do("GET", "/api/v1/users/alice", nil); r.Status != 404 {
			t.Fatalf("GET /users/alice after the deletion: %d %s", r.Status, r.Raw)
		}
		if r := bob.Do("POST", "/api/v1/direct", map[string]any{"username": "alice"}); r.Status != 404 {
			t.Fatalf("a new direct chat with a deleted name: %d %s", r.Status, r.Raw)
		}
		// The username is retired; the email is free.
		if r := anon.Do("POST", "/api/v1/auth/signup", map[string]any{"username": "alice", "email": "x@example.com", "password": "password-x"}); r.Code() != "username_taken" {
			t.Fatalf("sign-up with a retired username: %d %s", r.Status, r.Raw)
		}
		anon.Must(201, "POST", "/api/v1/auth/signup", map[string]any{"username": "alicia", "email": "alice@example.com", "password": "password-x"})
	})
}

// TestBlock: a blocked person cannot start or send in a direct chat with
// the blocker, nor call them, and gets the answer of someone not accepting
// messages; groups go on; unblocking lets them again.
func TestBlock(t *testing.T) {
	onBothStores(t, func(t *testing.T, srv *servertest.Server) {
		alice := servertest.SignUp(t, srv.URL, "alice")
		bob := servertest.SignUp(t, srv.URL, "bob")
		carol := servertest.SignUp(t, srv.URL, "carol")
		servertest.SignUp(t, srv.URL, "dave")
		d := bob.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "alice"}).Obj("conversation")
		did := id(d, "id")
		send := func(who *servertest.API, conv int64, cmid string) servertest.Answer {
			return who.Do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]any{"client_msg_id": cmid, "text": "hi"})
		}
		if r := send(bob, did, "before"); r.Status != 201 {
			t.Fatalf("send before the block: %d %s", r.Status, r.Raw)
		}

		for _, c := range []struct {
			body        map[string]any
			status      int
			code, field string
		}{
			{map[string]any{"username": "alice"}, 400, "invalid", "username"},
			{map[string]any{"username": "nobody"}, 404, "not_found", "username"},
			{map[string]any{"username": "bob", "why": "x"}, 400, "invalid", "why"},
		} {
			r := alice.Do("POST", "/api/v1/me/blocks", c.body)
			if r.Status != c.status || r.Code() != c.code || r.Field() != c.field {
				t.Errorf("block %v: %d %s", c.body, r.Status, r.Raw)
			}
		}
		r := alice.Must(200, "POST", "/api/v1/me/blocks", map[string]any{"username": "Bob"})
		if u := r.Obj("user"); u["username"] != "bob" || u["email"] != nil {
			t.Fatalf("block answer %v", u)
		}
		alice.Must(200, "POST", "/api/v1/me/blocks", map[string]any{"username": "bob"})
		alice.Must(200, "POST", "/api/v1/me/blocks", map[string]any{"username": "dave"})
		list := alice.Must(200, "GET", "/api/v1/me/blocks", nil).Body["users"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["username"] != "bob" || list[1].(map[string]any)["username"] != "dave" {
			t.Fatalf("blocks %v", list)
		}

		// Bob: refused like someone not accepting messages.
		refused := send(bob, did, "after")
		if refused.Status != 403 || refused.Code() != "not_accepting" || strings.Contains(strings.ToLower(string(refused.Raw)), "block") {
			t.Fatalf("send to a blocker: %d %s", refused.Status, refused.Raw)
		}
		// Dave cannot start a direct chat with alice.
		dave := login(t, srv.URL, "dave", "password-dave")
		if r := dave.Do("POST", "/api/v1/direct", map[string]any{"username": "alice"}); r.Code() != "not_accepting" || strings.Contains(strings.ToLower(string(r.Raw)), "block") {
			t.Fatalf("direct chat with a blocker: %d %s", r.Status, r.Raw)
		}
		// Alice may still write to bob; carol to alice; bob in a group.
		if r := send(alice, did, "alice"); r.Status != 201 {
			t.Fatalf("blocker's own send: %d %s", r.Status, r.Raw)
		}
		cd := carol.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "alice"}).Obj("conversation")
		if r := send(carol, id(cd, "id"), "carol"); r.Status != 201 {
			t.Fatalf("carol's send: %d %s", r.Status, r.Raw)
		}
		g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Club", "code": "club-code"}).Obj("conversation")
		bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "club-code"})
		if r := send(bob, id(g, "id"), "group"); r.Status != 201 {
			t.Fatalf("blocked person's send in a group: %d %s", r.Status, r.Raw)
		}

		// Unblock: bob may write again. Unblocking again is no error.
		alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/me/blocks/%d", bob.UserID), nil)
		alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/me/blocks/%d", bob.UserID), nil)
		if r := alice.Do("DELETE", "/api/v1/me/blocks/x", nil); r.Status != 404 {
			t.Fatalf("unblock x: %d %s", r.Status, r.Raw)
		}
		if r := send(bob, did, "again"); r.Status != 201 {
			t.Fatalf("send once unblocked: %d %s", r.Status, r.Raw)
		}
		if list := alice.Must(200, "GET", "/api/v1/me/blocks", nil).Body["users"].([]any); len(list) != 1 {
			t.Fatalf("blocks after unblocking bob: %v", list)
		}
	})
}

// TestExport: the zip holds the profile, the conversation list, every
// message of each conversation (others' too) and the files; a fourth
// export within the hour is refused.
func TestExport(t *testing.T) {
	onBothStores(t, func(t *testing.T, srv *servertest.Server) {
		alice := servertest.SignUp(t, srv.URL, "alice")
		bob := servertest.SignUp(t, srv.URL, "bob")
		d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
		did := id(d, "id")
		up := mustUpload(alice, "notes.txt", "text/plain", []byte("the file's bytes"))
		alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", did),
			map[string]any{"client_msg_id": "f", "text": "a file", "attachments": []int64{id(up, "id")}})
		const many = 450 // more than two pages of the store
		for i := range many {
			who := bob
			if i%2 == 0 {
				who = alice
			}
			who.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", did), map[string]any{"client_msg_id": fmt.Sprintf("m%d", i), "text": fmt.Sprintf("message %d", i)})
		}

		r := fetch(alice, "/api/v1/me/export")
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" || !strings.Contains(r.Header.Get("Content-Disposition"), `filename="parley-alice.zip"`) {
			t.Fatalf("export: %d %v", r.Status, r.Header)
		}
		z, err := zip.NewReader(bytes.NewReader(r.Raw), int64(len(r.Raw)))
		if err != nil {
			t.Fatalf("export is no zip: %v", err)
		}
		files := map[string][]byte{}
		for _, f := range z.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("read %s: %v", f.Name, err)
			}
		}
		var profile struct {
			User struct{ Username, Email string }
		}
		if err := json.Unmarshal(files["profile.json"], &profile); err != nil || profile.User.Username != "alice" || profile.User.Email != "alice@example.com" {
			t.Fatalf("profile.json %s (%v)", files["profile.json"], err)
		}
		var convs struct{ Conversations []struct{ ID int64 } }
		if err := json.Unmarshal(files["conversations.json"], &convs); err != nil || len(convs.Conversations) != 1 || convs.Conversations[0].ID != did {
			t.Fatalf("conversations.json %s (%v)", files["conversations.json"], err)
		}
		var msgs struct {
			Messages []struct {
				Seq      int64
				SenderID int64 `json:"sender_id"`
				Text     string
			}
		}
		name := fmt.Sprintf("conversations/%d/messages.json", did)
		if err := json.Unmarshal(files[name], &msgs); err != nil || len(msgs.Messages) != many+1 {
			t.Fatalf("%s: %d messages (%v), want %d", name, len(msgs.Messages), err, many+1)
		}
		for i, m := range msgs.Messages {
			if m.Seq != int64(i+1) {
				t.Fatalf("message %d has seq %d", i, m.Seq)
			}
		}
		if last := msgs.Messages[many]; last.SenderID != bob.UserID || last.Text != fmt.Sprintf("message %d", many-1) {
			t.Fatalf("last message %+v", last)
		}
		if got := string(files[fmt.Sprintf("attachments/%d/notes.txt", id(up, "id"))]); got != "the file's bytes" {
			t.Fatalf("attachment in the export: %q (files %v)", got, len(files))
		}
		// Bob's export does not hold alice's profile.
		if rb := fetch(bob, "/api/v1/me/export"); rb.Status != 200 || bytes.Contains(rb.Raw, []byte("alice@example.com")) {
			t.Fatalf("bob's export: %d, holds alice's email: %v", rb.Status, bytes.Contains(rb.Raw, []byte("alice@example.com")))
		}

		fetch(alice, "/api/v1/me/export")
		fetch(alice, "/api/v1/me/export")
		if r := fetch(alice, "/api/v1/me/export"); r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("fourth export in the hour: %d %s", r.Status, r.Raw)
		}
		anon := &servertest.API{T: t, Base: srv.URL}
		anon.Must(401, "GET", "/api/v1/me/export", nil)
	})
}
