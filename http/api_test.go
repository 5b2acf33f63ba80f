package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"parley/servertest"
)

// api is a tiny REST caller for tests: it sends body (a string is sent as
// is, anything else as JSON) and decodes the JSON answer.
type api struct {
	t     testing.TB
	base  string
	token string
}

type resp struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
}

func (r resp) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		return fmt.Sprint(e["code"])
	}
	return ""
}

func (r resp) field() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		if f, ok := e["field"]; ok {
			return fmt.Sprint(f)
		}
	}
	return ""
}

// obj returns a nested object by key path.
func (r resp) obj(keys ...string) map[string]any {
	m := r.body
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

func (a *api) do(method, path string, body any) resp {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.send(req)
}

// send sends req with the caller's token and reads the answer.
func (a *api) send(req *http.Request) resp {
	a.t.Helper()
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, raw: raw, header: res.Header}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			a.t.Fatalf("%s %s: bad JSON %q", req.Method, req.URL.Path, raw)
		}
	}
	return r
}

// must calls do and fails the test unless the status is want.
func (a *api) must(want int, method, path string, body any) resp {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// user signs up and logs in a new user and returns a caller for them.
func user(t testing.TB, srv *servertest.Server, name string) *api {
	t.Helper()
	anon := &api{t: t, base: srv.URL}
	anon.must(201, "POST", "/api/v1/auth/signup", map[string]any{"username": name, "email": name + "@example.com", "password": "password-" + name})
	r := anon.must(200, "POST", "/api/v1/auth/login", map[string]any{"login": name, "password": "password-" + name})
	return &api{t: t, base: srv.URL, token: r.body["token"].(string)}
}

func id(m map[string]any, key string) int64 {
	return int64(m[key].(float64))
}

func TestAccounts(t *testing.T) {
	srv := servertest.Start(t)
	anon := &api{t: t, base: srv.URL}

	r := anon.must(201, "POST", "/api/v1/auth/signup", map[string]any{"username": "Alice", "email": "Alice@Example.com", "password": "correct horse"})
	if u := r.obj("user"); u["username"] != "alice" || u["email"] != "alice@example.com" || u["accepting_messages"] != true {
		t.Fatalf("signup user = %v", u)
	}
	if strings.Contains(string(r.raw), "correct horse") || strings.Contains(string(r.raw), "argon2") {
		t.Fatal("signup answer shows the password or its hash")
	}
	for _, c := range []struct {
		body        map[string]any
		code, field string
	}{
		{map[string]any{"username": "ALICE", "email": "x@example.com", "password": "12345678"}, "username_taken", ""},
		{map[string]any{"username": "bob", "email": "alice@EXAMPLE.com", "password": "12345678"}, "email_taken", ""},
		{map[string]any{"username": "b", "email": "b@example.com", "password": "12345678"}, "invalid", "username"},
		{map[string]any{"username": "bob!", "email": "b@example.com", "password": "12345678"}, "invalid", "username"},
		{map[string]any{"username": strings.Repeat("b", 33), "email": "b@example.com", "password": "12345678"}, "invalid", "username"},
		{map[string]any{"username": "bob", "email": "not-an-email", "password": "12345678"}, "invalid", "email"},
		{map[string]any{"username": "bob", "email": "b@example.com", "password": "short"}, "invalid", "password"},
		{map[string]any{"username": "bob", "email": "b@example.com", "password": strings.Repeat("p", 129)}, "invalid", "password"},
	} {
		r := anon.do("POST", "/api/v1/auth/signup", c.body)
		if r.code() != c.code || r.field() != c.field {
			t.Errorf("signup %v: %d %s", c.body, r.status, r.raw)
		}
	}

	// Login by username or email; wrong password and unknown user look the same.
	r = anon.must(200, "POST", "/api/v1/auth/login", map[string]any{"login": "alice@example.com", "password": "correct horse"})
	tok := r.body["token"].(string)
	if len(tok) < 22 {
		t.Fatalf("token %q too short", tok)
	}
	cookie := r.header.Get("Set-Cookie")
	if !strings.Contains(cookie, "parley_session=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("cookie %q", cookie)
	}
	// Beside it, a hint for the web app that scripts can read: no secret in it.
	if cookies := r.header.Values("Set-Cookie"); len(cookies) != 2 || !strings.HasPrefix(cookies[1], "parley_signed_in=1;") || strings.Contains(cookies[1], "HttpOnly") || strings.Contains(cookies[1], tok) {
		t.Fatalf("cookies %q", cookies)
	}
	bad := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "wrong password"})
	unknown := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": "nobody", "password": "wrong password"})
	if bad.status != 401 || unknown.status != 401 || bad.code() != "bad_credentials" || string(bad.raw) != string(unknown.raw) {
		t.Fatalf("bad login %d %s / unknown %d %s", bad.status, bad.raw, unknown.status, unknown.raw)
	}

	alice := &api{t: t, base: srv.URL, token: tok}
	r = alice.must(200, "GET", "/api/v1/me", nil)
	if r.obj("user")["username"] != "alice" {
		t.Fatal(r.body)
	}
	r = alice.must(200, "PATCH", "/api/v1/me", map[string]any{"display_name": "Alice A.", "accepting_messages": false})
	if u := r.obj("user"); u["display_name"] != "Alice A." || u["accepting_messages"] != false {
		t.Fatal(u)
	}
	if r := alice.do("PATCH", "/api/v1/me", map[string]any{"display_name": strings.Repeat("x", 65)}); r.field() != "display_name" {
		t.Fatal(r.raw)
	}

	// Sessions: list, revoke another, log out others, log out.
	r2 := anon.must(200, "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "correct horse"})
	other := &api{t: t, base: srv.URL, token: r2.body["token"].(string)}
	r = alice.must(200, "GET", "/api/v1/sessions", nil)
	if n := len(r.body["sessions"].([]any)); n != 2 {
		t.Fatalf("%d sessions", n)
	}
	r = alice.must(200, "POST", "/api/v1/sessions/logout-others", nil)
	if r.body["revoked"].(float64) != 1 {
		t.Fatal(r.body)
	}
	other.must(401, "GET", "/api/v1/me", nil)
	alice.must(204, "POST", "/api/v1/auth/logout", nil)
	if r := alice.do("GET", "/api/v1/me", nil); r.status != 401 || r.code() != "unauthorized" {
		t.Fatal(r.raw)
	}
}

func TestLoginRateLimit(t *testing.T) {
	srv := servertest.Start(t)
	user(t, srv, "carol")
	anon := &api{t: t, base: srv.URL}
	for i := 0; i < 10; i++ {
		anon.must(401, "POST", "/api/v1/auth/login", map[string]any{"login": "carol", "password": "wrong-password"})
	}
	r := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": "carol", "password": "password-carol"})
	if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 10 failures: %d %s %v", r.status, r.raw, r.header)
	}
}

func TestGroupsAndDirect(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := user(t, srv, "alice"), user(t, srv, "bob"), user(t, srv, "carol")

	r := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "  Climbing  ", "code": "Crag-42"})
	g := r.obj("conversation")
	gid := id(g, "id")
	if g["name"] != "Climbing" || g["code"] != "Crag-42" || g["role"] != "owner" || g["kind"] != "group" {
		t.Fatal(g)
	}
	if r := bob.do("POST", "/api/v1/groups", map[string]any{"name": "x", "code": "crag-42"}); r.status != 409 || r.code() != "code_taken" {
		t.Fatal(r.raw)
	}
	if r := bob.do("POST", "/api/v1/groups", map[string]any{"name": "x", "code": "no"}); r.field() != "code" {
		t.Fatal(r.raw)
	}
	gen := bob.must(201, "POST", "/api/v1/groups", map[string]any{"name": "Generated"}).obj("conversation")
	if len(gen["code"].(string)) != 14 { // 12 symbols in groups of four
		t.Fatal(gen)
	}
	if r := bob.do("POST", "/api/v1/groups/join", map[string]any{"code": "nope-nope"}); r.status != 404 || r.code() != "group_not_found" {
		t.Fatal(r.raw)
	}
	bob.must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "CRAG-42"})
	bob.must(200, "POST", "/api/v1/groups/join", map[string]any{"code": "crag-42"})
	carol.must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "Crag-42"})

	members := alice.must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/members", gid), nil).body["members"].([]any)
	if len(members) != 3 {
		t.Fatal(members)
	}
	bobID := id(members[1].(map[string]any), "user_id")
	carolID := id(members[2].(map[string]any), "user_id")

	// Only admins rename, rotate, promote, remove.
	bob.must(403, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", gid), map[string]any{"name": "Mine"})
	alice.must(200, "PATCH", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, bobID), map[string]any{"role": "admin"})
	r = bob.must(200, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", gid), map[string]any{"name": "Bouldering"})
	if r.obj("conversation")["name"] != "Bouldering" {
		t.Fatal(r.body)
	}
	r = bob.must(200, "POST", fmt.Sprintf("/api/v1/conversations/%d/code", gid), nil)
	if r.obj("conversation")["code"] == "Crag-42" {
		t.Fatal("code not rotated")
	}
	bob.must(404, "POST", "/api/v1/groups/join", map[string]any{"code": "Crag-42"})
	bob.must(403, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, id(members[0].(map[string]any), "user_id")), nil)
	bob.must(204, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, carolID), nil)
	carol.must(404, "GET", fmt.Sprintf("/api/v1/conversations/%d", gid), nil)

	// The history shows what happened.
	msgs := alice.must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil).body["messages"].([]any)
	var events []string
	for _, m := range msgs {
		events = append(events, m.(map[string]any)["system"].(map[string]any)["event"].(string))
	}
	want := "created joined joined role_changed renamed code_rotated removed"
	if got := strings.Join(events, " "); got != want {
		t.Fatalf("system messages %q, want %q", got, want)
	}

	// Leaving.
	bob.must(204, "POST", fmt.Sprintf("/api/v1/conversations/%d/leave", gid), nil)
	bob.must(404, "POST", fmt.Sprintf("/api/v1/conversations/%d/leave", gid), nil)

	// Direct chats: one per pair, either way round.
	r = alice.must(201, "POST", "/api/v1/direct", map[string]any{"username": "Bob"})
	d := r.obj("conversation")
	if d["kind"] != "direct" || d["name"] != "bob" || d["peer"].(map[string]any)["username"] != "bob" {
		t.Fatal(d)
	}
	r = bob.must(200, "POST", "/api/v1/direct", map[string]any{"username": "alice"})
	if id(r.obj("conversation"), "id") != id(d, "id") {
		t.Fatal("second direct conversation for the same pair")
	}
	alice.must(404, "POST", "/api/v1/direct", map[string]any{"username": "nobody"})
	alice.must(400, "POST", "/api/v1/direct", map[string]any{"username": "alice"})

	// Not accepting messages: direct sends refused, groups unaffected.
	carol.must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": false})
	if r := alice.do("POST", "/api/v1/direct", map[string]any{"username": "carol"}); r.status != 403 || r.code() != "not_accepting" {
		t.Fatal(r.raw)
	}
	carol.must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": true})
	cd := alice.must(201, "POST", "/api/v1/direct", map[string]any{"username": "carol"}).obj("conversation")
	carol.must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": false})
	if r := alice.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id(cd, "id")), map[string]any{"client_msg_id": "a1", "text": "hi"}); r.status != 403 || r.code() != "not_accepting" {
		t.Fatal(r.raw)
	}
	carol.must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": true})
	alice.must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id(cd, "id")), map[string]any{"client_msg_id": "a1", "text": "hi"})

	// The list: newest activity first, names, unread.
	list := carol.must(200, "GET", "/api/v1/conversations", nil).body["conversations"].([]any)
	first := list[0].(map[string]any)
	if first["kind"] != "direct" || first["name"] != "Alice" && first["name"] != "alice" || first["unread"].(float64) != 1 {
		t.Fatal(first)
	}
}

func TestMessages(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := user(t, srv, "alice"), user(t, srv, "bob")
	g := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gggg42"}).obj("conversation")
	bob.must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "gggg42"})
	base := fmt.Sprintf("/api/v1/conversations/%d", id(g, "id"))

	r := alice.must(201, "POST", base+"/messages", map[string]any{"client_msg_id": "m1", "text": "hello"})
	m := r.obj("message")
	if m["seq"].(float64) != 3 || m["text"] != "hello" || m["sender"].(map[string]any)["username"] != "alice" || m["created_at"] == nil {
		t.Fatal(m)
	}
	again := alice.must(200, "POST", base+"/messages", map[string]any{"client_msg_id": "m1", "text": "hello"})
	if again.obj("message")["id"] != m["id"] {
		t.Fatal("resend stored a new message")
	}
	for i := 0; i < 10; i++ {
		bob.must(201, "POST", base+"/messages", map[string]any{"client_msg_id": fmt.Sprint("b", i), "text": fmt.Sprint("msg ", i)})
	}
	// Paging.
	page := alice.must(200, "GET", base+"/messages?after_seq=3&limit=4", nil)
	if ms := page.body["messages"].([]any); len(ms) != 4 || ms[0].(map[string]any)["seq"].(float64) != 4 || page.body["has_more"] != true {
		t.Fatal(page.body)
	}
	page = alice.must(200, "GET", base+"/messages?before_seq=5&limit=10", nil)
	if ms := page.body["messages"].([]any); len(ms) != 4 || ms[3].(map[string]any)["seq"].(float64) != 4 || page.body["has_more"] != false {
		t.Fatal(page.body)
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "after_seq=-1"} {
		alice.must(400, "GET", base+"/messages?"+q, nil)
	}
	// Edit and delete.
	bob.must(403, "PATCH", base+"/messages/3", map[string]any{"text": "not mine"})
	r = alice.must(200, "PATCH", base+"/messages/3", map[string]any{"text": "hello, edited"})
	if r.obj("message")["edited_at"] == nil || r.obj("message")["text"] != "hello, edited" {
		t.Fatal(r.body)
	}
	bob.must(403, "DELETE", base+"/messages/3", nil)
	r = alice.must(200, "DELETE", base+"/messages/4", nil) // alice owns the group: moderates
	if r.obj("message")["text"] != "" || r.obj("message")["deleted_at"] == nil {
		t.Fatal(r.body)
	}
	alice.must(403, "PATCH", base+"/messages/4", map[string]any{"text": "x"}) // bob's
	alice.must(200, "DELETE", base+"/messages/3", nil)
	alice.must(400, "PATCH", base+"/messages/3", map[string]any{"text": "x"}) // deleted
	alice.must(404, "PATCH", base+"/messages/999", map[string]any{"text": "x"})

	// Read marks only move forward.
	r = alice.must(200, "POST", base+"/read", map[string]any{"seq": 8})
	if r.body["read_seq"].(float64) != 8 {
		t.Fatal(r.body)
	}
	r = alice.must(200, "POST", base+"/read", map[string]any{"seq": 5})
	if r.body["read_seq"].(float64) != 8 {
		t.Fatal("read mark moved back", r.body)
	}
	conv := alice.must(200, "GET", base, nil).obj("conversation")
	if conv["unread"].(float64) != conv["last_seq"].(float64)-8 {
		t.Fatal(conv)
	}
	// Limits on text.
	alice.must(400, "POST", base+"/messages", map[string]any{"client_msg_id": "e1", "text": "   "})
	alice.must(400, "POST", base+"/messages", map[string]any{"client_msg_id": "e2", "text": strings.Repeat("é", 4097)})
	alice.must(201, "POST", base+"/messages", map[string]any{"client_msg_id": "e3", "text": strings.Repeat("é", 4096)})
	alice.must(400, "POST", base+"/messages", map[string]any{"client_msg_id": "", "text": "x"})
}

// TestAuthorization: a stranger and a member who left get exactly what they
// get for a conversation that does not exist, on every route.
func TestAuthorization(t *testing.T) {
	srv := servertest.Start(t)
	alice, stranger, leaver := user(t, srv, "alice"), user(t, srv, "mallory"), user(t, srv, "leaver")
	g := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "secret-code"}).obj("conversation")
	gid := id(g, "id")
	leaver.must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "secret-code"})
	alice.must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": "x", "text": "private"})
	leaver.must(204, "POST", fmt.Sprintf("/api/v1/conversations/%d/leave", gid), nil)

	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/conversations/%d", nil},
		{"PATCH", "/api/v1/conversations/%d", map[string]any{"name": "x"}},
		{"POST", "/api/v1/conversations/%d/code", nil},
		{"GET", "/api/v1/conversations/%d/members", nil},
		{"PATCH", "/api/v1/conversations/%d/members/1", map[string]any{"role": "admin"}},
		{"DELETE", "/api/v1/conversations/%d/members/1", nil},
		{"POST", "/api/v1/conversations/%d/leave", nil},
		{"POST", "/api/v1/conversations/%d/messages", map[string]any{"client_msg_id": "y", "text": "hi"}},
		{"GET", "/api/v1/conversations/%d/messages", nil},
		{"PATCH", "/api/v1/conversations/%d/messages/1", map[string]any{"text": "x"}},
		{"DELETE", "/api/v1/conversations/%d/messages/1", nil},
		{"POST", "/api/v1/conversations/%d/read", map[string]any{"seq": 1}},
		{"POST", "/api/v1/conversations/%d/suggestions", nil},
		{"GET", "/api/v1/conversations/%d/messages?around_seq=1", nil},
		{"POST", "/api/v1/conversations/%d/messages", map[string]any{"client_msg_id": "z", "text": "re", "reply_to": 1}},
		{"POST", "/api/v1/conversations/%d/messages/2/reactions", map[string]any{"emoji": "👍", "on": true}},
	}
	for _, rt := range routes {
		missing := stranger.do(rt.method, fmt.Sprintf(rt.path, 999999), rt.body)
		if missing.status != 404 {
			t.Errorf("%s %s on a missing conversation: %d %s", rt.method, rt.path, missing.status, missing.raw)
		}
		for _, who := range []*api{stranger, leaver} {
			r := who.do(rt.method, fmt.Sprintf(rt.path, gid), rt.body)
			if r.status != 404 || string(r.raw) != string(missing.raw) {
				t.Errorf("%s %s: %d %s, want the not-found answer %s", rt.method, rt.path, r.status, r.raw, missing.raw)
			}
		}
		anon := &api{t: t, base: srv.URL}
		if r := anon.do(rt.method, fmt.Sprintf(rt.path, gid), rt.body); r.status != 401 {
			t.Errorf("%s %s without a session: %d", rt.method, rt.path, r.status)
		}
	}
	for _, c := range stranger.must(200, "GET", "/api/v1/conversations", nil).body["conversations"].([]any) {
		t.Errorf("stranger sees %v", c)
	}
	// Nothing was written by any of it.
	msgs := alice.must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil).body["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	if last["kind"] != "system" || len(msgs) != 4 {
		t.Fatalf("history changed: %v", msgs)
	}
}

// TestBadInput: malformed bodies get 400 with a code, nothing is written and
// the server keeps serving.
func TestBadInput(t *testing.T) {
	srv := servertest.Start(t)
	alice := user(t, srv, "alice")
	g := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).obj("conversation")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id(g, "id"))
	cases := []struct {
		body   any
		status int
		field  string
	}{
		{`{"client_msg_id": "a", "text": "hi"`, 400, ""},
		{`not json`, 400, ""},
		{`{"client_msg_id": 5, "text": "hi"}`, 400, "client_msg_id"},
		{`{"client_msg_id": "a", "text": ["hi"]}`, 400, "text"},
		{`{"client_msg_id": "a", "text": "hi", "admin": true}`, 400, "admin"},
		{`{"client_msg_id": "a", "text": "hi"} {"again": 1}`, 400, ""},
		{`[1,2,3]`, 400, ""},
		{`{"client_msg_id": "a", "text": "` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
	}
	for _, c := range cases {
		r := alice.do("POST", path, c.body)
		if r.status != c.status || r.code() == "" || r.field() != c.field {
			t.Errorf("body %.60q: %d %s, want %d field %q", c.body, r.status, r.raw, c.status, c.field)
		}
	}
	msgs := alice.must(200, "GET", path, nil).body["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("bad input wrote messages: %v", msgs)
	}
	alice.must(404, "GET", "/api/v1/nothing-here", nil)
	alice.must(404, "GET", "/api/v1/conversations/abc", nil)
	alice.must(200, "GET", "/api/v1/me", nil)
}

func TestCrossSiteRefused(t *testing.T) {
	srv := servertest.Start(t)
	alice := user(t, srv, "alice")
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/groups", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Cookie", "parley_session="+alice.token)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("cross-site POST: %d", res.StatusCode)
	}
}

// TestGapFreeConcurrentSends: 20 senders × 200 messages into one group give
// seq 1..N with no gap and no duplicate, and history in seq order.
func TestGapFreeConcurrentSends(t *testing.T) {
	srv := servertest.Start(t)
	owner := user(t, srv, "owner")
	g := owner.must(201, "POST", "/api/v1/groups", map[string]any{"name": "Busy", "code": "busy-group"}).obj("conversation")
	gid := id(g, "id")
	const senders, each = 20, 200
	var wg sync.WaitGroup
	apis := make([]*api, senders)
	for i := range apis {
		apis[i] = user(t, srv, fmt.Sprintf("sender%d", i))
		apis[i].must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "busy-group"})
	}
	base := id(owner.must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d", gid), nil).obj("conversation"), "last_seq")
	errs := make(chan string, senders*each)
	for i, a := range apis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				r := a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": fmt.Sprintf("%d-%d", i, j), "text": "x"})
				if r.status != 201 {
					errs <- fmt.Sprintf("send: %d %s", r.status, r.raw)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	var seqs []int64
	after := int64(0)
	for {
		r := owner.must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages?after_seq=%d&limit=200", gid, after), nil)
		for _, m := range r.body["messages"].([]any) {
			seqs = append(seqs, id(m.(map[string]any), "seq"))
		}
		if r.body["has_more"] != true {
			break
		}
		after = seqs[len(seqs)-1]
	}
	if want := int(base) + senders*each; len(seqs) != want {
		t.Fatalf("%d messages, want %d", len(seqs), want)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("seq at %d is %d", i, s)
		}
	}
}

// TestConcurrentResend: the same client_msg_id 50 times at once stores one
// message and every answer names it.
func TestConcurrentResend(t *testing.T) {
	srv := servertest.Start(t)
	alice := user(t, srv, "alice")
	g := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).obj("conversation")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id(g, "id"))
	var wg sync.WaitGroup
	ids := make([]any, 50)
	created := make([]bool, 50)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := alice.do("POST", path, map[string]any{"client_msg_id": "same", "text": "once"})
			ids[i], created[i] = r.obj("message")["id"], r.status == 201
		}()
	}
	wg.Wait()
	n := 0
	for i := range ids {
		if ids[i] != ids[0] || ids[i] == nil {
			t.Fatalf("answers differ: %v", ids)
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d answers said created", n)
	}
	if msgs := alice.must(200, "GET", path, nil).body["messages"].([]any); len(msgs) != 2 {
		t.Fatalf("%d messages stored", len(msgs))
	}
}
