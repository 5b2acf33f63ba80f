package http_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"parley/servertest"
)

func id(m map[string]any, key string) int64 {
	return int64(m[key].(float64))
}

func TestAccounts(t *testing.T) {
	srv := servertest.Start(t)
	anon := &servertest.API{T: t, Base: srv.URL}

	r := anon.Must(201, "POST", "/api/v1/auth/signup", map[string]any{"username": "Alice", "email": "Alice@Example.com", "password": "correct horse"})
	if u := r.Obj("user"); u["username"] != "alice" || u["email"] != "alice@example.com" || u["accepting_messages"] != true {
		t.Fatalf("signup user = %v", u)
	}
	if strings.Contains(string(r.Raw), "correct horse") || strings.Contains(string(r.Raw), "argon2") {
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
		r := anon.Do("POST", "/api/v1/auth/signup", c.body)
		if r.Code() != c.code || r.Field() != c.field {
			t.Errorf("signup %v: %d %s", c.body, r.Status, r.Raw)
		}
	}

	// Login by username or email; wrong password and unknown user look the same.
	r = anon.Must(200, "POST", "/api/v1/auth/login", map[string]any{"login": "alice@example.com", "password": "correct horse"})
	tok := r.Body["token"].(string)
	if len(tok) < 22 {
		t.Fatalf("token %q too short", tok)
	}
	cookie := r.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "parley_session=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("cookie %q", cookie)
	}
	// Beside it, a hint for the web app that scripts can read: no secret in it.
	if cookies := r.Header.Values("Set-Cookie"); len(cookies) != 2 || !strings.HasPrefix(cookies[1], "parley_signed_in=1;") || strings.Contains(cookies[1], "HttpOnly") || strings.Contains(cookies[1], tok) {
		t.Fatalf("cookies %q", cookies)
	}
	bad := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "wrong password"})
	unknown := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": "nobody", "password": "wrong password"})
	if bad.Status != 401 || unknown.Status != 401 || bad.Code() != "bad_credentials" || string(bad.Raw) != string(unknown.Raw) {
		t.Fatalf("bad login %d %s / unknown %d %s", bad.Status, bad.Raw, unknown.Status, unknown.Raw)
	}

	alice := &servertest.API{T: t, Base: srv.URL, Token: tok}
	r = alice.Must(200, "GET", "/api/v1/me", nil)
	if r.Obj("user")["username"] != "alice" {
		t.Fatal(r.Body)
	}
	r = alice.Must(200, "PATCH", "/api/v1/me", map[string]any{"display_name": "Alice A.", "accepting_messages": false})
	if u := r.Obj("user"); u["display_name"] != "Alice A." || u["accepting_messages"] != false {
		t.Fatal(u)
	}
	if r := alice.Do("PATCH", "/api/v1/me", map[string]any{"display_name": strings.Repeat("x", 65)}); r.Field() != "display_name" {
		t.Fatal(r.Raw)
	}

	// Sessions: list, revoke another, log out others, log out.
	r2 := anon.Must(200, "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "correct horse"})
	other := &servertest.API{T: t, Base: srv.URL, Token: r2.Body["token"].(string)}
	r = alice.Must(200, "GET", "/api/v1/sessions", nil)
	if n := len(r.Body["sessions"].([]any)); n != 2 {
		t.Fatalf("%d sessions", n)
	}
	r = alice.Must(200, "POST", "/api/v1/sessions/logout-others", nil)
	if r.Body["revoked"].(float64) != 1 {
		t.Fatal(r.Body)
	}
	other.Must(401, "GET", "/api/v1/me", nil)
	alice.Must(204, "POST", "/api/v1/auth/logout", nil)
	if r := alice.Do("GET", "/api/v1/me", nil); r.Status != 401 || r.Code() != "unauthorized" {
		t.Fatal(r.Raw)
	}
}

func TestLoginRateLimit(t *testing.T) {
	srv := servertest.Start(t)
	servertest.SignUp(t, srv.URL, "carol")
	anon := &servertest.API{T: t, Base: srv.URL}
	for i := 0; i < 10; i++ {
		anon.Must(401, "POST", "/api/v1/auth/login", map[string]any{"login": "carol", "password": "wrong-password"})
	}
	r := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": "carol", "password": "password-carol"})
	if r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 10 failures: %d %s %v", r.Status, r.Raw, r.Header)
	}
}

func TestGroupsAndDirect(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")

	r := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "  Climbing  ", "code": "Crag-42"})
	g := r.Obj("conversation")
	gid := id(g, "id")
	if g["name"] != "Climbing" || g["code"] != "Crag-42" || g["role"] != "owner" || g["kind"] != "group" {
		t.Fatal(g)
	}
	if r := bob.Do("POST", "/api/v1/groups", map[string]any{"name": "x", "code": "crag-42"}); r.Status != 409 || r.Code() != "code_taken" {
		t.Fatal(r.Raw)
	}
	if r := bob.Do("POST", "/api/v1/groups", map[string]any{"name": "x", "code": "no"}); r.Field() != "code" {
		t.Fatal(r.Raw)
	}
	gen := bob.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Generated"}).Obj("conversation")
	if len(gen["code"].(string)) != 14 { // 12 symbols in groups of four
		t.Fatal(gen)
	}
	if r := bob.Do("POST", "/api/v1/groups/join", map[string]any{"code": "nope-nope"}); r.Status != 404 || r.Code() != "group_not_found" {
		t.Fatal(r.Raw)
	}
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "CRAG-42"})
	bob.Must(200, "POST", "/api/v1/groups/join", map[string]any{"code": "crag-42"})
	carol.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "Crag-42"})

	members := alice.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/members", gid), nil).Body["members"].([]any)
	if len(members) != 3 {
		t.Fatal(members)
	}
	bobID := id(members[1].(map[string]any), "user_id")
	carolID := id(members[2].(map[string]any), "user_id")

	// Only admins rename, rotate, promote, remove.
	bob.Must(403, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", gid), map[string]any{"name": "Mine"})
	alice.Must(200, "PATCH", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, bobID), map[string]any{"role": "admin"})
	r = bob.Must(200, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", gid), map[string]any{"name": "Bouldering"})
	if r.Obj("conversation")["name"] != "Bouldering" {
		t.Fatal(r.Body)
	}
	r = bob.Must(200, "POST", fmt.Sprintf("/api/v1/conversations/%d/code", gid), nil)
	if r.Obj("conversation")["code"] == "Crag-42" {
		t.Fatal("code not rotated")
	}
	bob.Must(404, "POST", "/api/v1/groups/join", map[string]any{"code": "Crag-42"})
	bob.Must(403, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, id(members[0].(map[string]any), "user_id")), nil)
	bob.Must(204, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, carolID), nil)
	carol.Must(404, "GET", fmt.Sprintf("/api/v1/conversations/%d", gid), nil)

	// The history shows what happened.
	msgs := alice.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil).Body["messages"].([]any)
	var events []string
	for _, m := range msgs {
		events = append(events, m.(map[string]any)["system"].(map[string]any)["event"].(string))
	}
	want := "created joined joined role_changed renamed code_rotated removed"
	if got := strings.Join(events, " "); got != want {
		t.Fatalf("system messages %q, want %q", got, want)
	}

	// Leaving.
	bob.Must(204, "POST", fmt.Sprintf("/api/v1/conversations/%d/leave", gid), nil)
	bob.Must(404, "POST", fmt.Sprintf("/api/v1/conversations/%d/leave", gid), nil)

	// Direct chats: one per pair, either way round.
	r = alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "Bob"})
	d := r.Obj("conversation")
	if d["kind"] != "direct" || d["name"] != "bob" || d["peer"].(map[string]any)["username"] != "bob" {
		t.Fatal(d)
	}
	r = bob.Must(200, "POST", "/api/v1/direct", map[string]any{"username": "alice"})
	if id(r.Obj("conversation"), "id") != id(d, "id") {
		t.Fatal("second direct conversation for the same pair")
	}
	alice.Must(404, "POST", "/api/v1/direct", map[string]any{"username": "nobody"})
	alice.Must(400, "POST", "/api/v1/direct", map[string]any{"username": "alice"})

	// Not accepting messages: direct sends refused, groups unaffected.
	carol.Must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": false})
	if r := alice.Do("POST", "/api/v1/direct", map[string]any{"username": "carol"}); r.Status != 403 || r.Code() != "not_accepting" {
		t.Fatal(r.Raw)
	}
	carol.Must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": true})
	cd := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "carol"}).Obj("conversation")
	carol.Must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": false})
	if r := alice.Do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id(cd, "id")), map[string]any{"client_msg_id": "a1", "text": "hi"}); r.Status != 403 || r.Code() != "not_accepting" {
		t.Fatal(r.Raw)
	}
	carol.Must(200, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": true})
	alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id(cd, "id")), map[string]any{"client_msg_id": "a1", "text": "hi"})

	// The list: newest activity first, names, unread.
	list := carol.Must(200, "GET", "/api/v1/conversations", nil).Body["conversations"].([]any)
	first := list[0].(map[string]any)
	if first["kind"] != "direct" || first["name"] != "Alice" && first["name"] != "alice" || first["unread"].(float64) != 1 {
		t.Fatal(first)
	}
}

func TestMessages(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gggg42"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "gggg42"})
	base := fmt.Sprintf("/api/v1/conversations/%d", id(g, "id"))

	r := alice.Must(201, "POST", base+"/messages", map[string]any{"client_msg_id": "m1", "text": "hello"})
	m := r.Obj("message")
	if m["seq"].(float64) != 3 || m["text"] != "hello" || m["sender"].(map[string]any)["username"] != "alice" || m["created_at"] == nil {
		t.Fatal(m)
	}
	again := alice.Must(200, "POST", base+"/messages", map[string]any{"client_msg_id": "m1", "text": "hello"})
	if again.Obj("message")["id"] != m["id"] {
		t.Fatal("resend stored a new message")
	}
	for i := 0; i < 10; i++ {
		bob.Must(201, "POST", base+"/messages", map[string]any{"client_msg_id": fmt.Sprint("b", i), "text": fmt.Sprint("msg ", i)})
	}
	// Paging.
	page := alice.Must(200, "GET", base+"/messages?after_seq=3&limit=4", nil)
	if ms := page.Body["messages"].([]any); len(ms) != 4 || ms[0].(map[string]any)["seq"].(float64) != 4 || page.Body["has_more"] != true {
		t.Fatal(page.Body)
	}
	page = alice.Must(200, "GET", base+"/messages?before_seq=5&limit=10", nil)
	if ms := page.Body["messages"].([]any); len(ms) != 4 || ms[3].(map[string]any)["seq"].(float64) != 4 || page.Body["has_more"] != false {
		t.Fatal(page.Body)
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "after_seq=-1"} {
		alice.Must(400, "GET", base+"/messages?"+q, nil)
	}
	// Edit and delete.
	bob.Must(403, "PATCH", base+"/messages/3", map[string]any{"text": "not mine"})
	r = alice.Must(200, "PATCH", base+"/messages/3", map[string]any{"text": "hello, edited"})
	if r.Obj("message")["edited_at"] == nil || r.Obj("message")["text"] != "hello, edited" {
		t.Fatal(r.Body)
	}
	bob.Must(403, "DELETE", base+"/messages/3", nil)
	r = alice.Must(200, "DELETE", base+"/messages/4", nil) // alice owns the group: moderates
	if r.Obj("message")["text"] != "" || r.Obj("message")["deleted_at"] == nil {
		t.Fatal(r.Body)
	}
	alice.Must(403, "PATCH", base+"/messages/4", map[string]any{"text": "x"}) // bob's
	alice.Must(200, "DELETE", base+"/messages/3", nil)
	alice.Must(400, "PATCH", base+"/messages/3", map[string]any{"text": "x"}) // deleted
	alice.Must(404, "PATCH", base+"/messages/999", map[string]any{"text": "x"})

	// Read marks only move forward.
	r = alice.Must(200, "POST", base+"/read", map[string]any{"seq": 8})
	if r.Body["read_seq"].(float64) != 8 {
		t.Fatal(r.Body)
	}
	r = alice.Must(200, "POST", base+"/read", map[string]any{"seq": 5})
	if r.Body["read_seq"].(float64) != 8 {
		t.Fatal("read mark moved back", r.Body)
	}
	conv := alice.Must(200, "GET", base, nil).Obj("conversation")
	if conv["unread"].(float64) != conv["last_seq"].(float64)-8 {
		t.Fatal(conv)
	}
	// Limits on text.
	alice.Must(400, "POST", base+"/messages", map[string]any{"client_msg_id": "e1", "text": "   "})
	alice.Must(400, "POST", base+"/messages", map[string]any{"client_msg_id": "e2", "text": strings.Repeat("é", 4097)})
	alice.Must(201, "POST", base+"/messages", map[string]any{"client_msg_id": "e3", "text": strings.Repeat("é", 4096)})
	alice.Must(400, "POST", base+"/messages", map[string]any{"client_msg_id": "", "text": "x"})
}

// TestAuthorization: a stranger and a member who left get exactly what they
// get for a conversation that does not exist, on every route.
func TestAuthorization(t *testing.T) {
	srv := servertest.Start(t)
	alice, stranger, leaver := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "mallory"), servertest.SignUp(t, srv.URL, "leaver")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "secret-code"}).Obj("conversation")
	gid := id(g, "id")
	leaver.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "secret-code"})
	alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": "x", "text": "private"})
	leaver.Must(204, "POST", fmt.Sprintf("/api/v1/conversations/%d/leave", gid), nil)

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
		{"GET", "/api/v1/conversations/%d/messages/3/info", nil},
	}
	for _, rt := range routes {
		missing := stranger.Do(rt.method, fmt.Sprintf(rt.path, 999999), rt.body)
		if missing.Status != 404 {
			t.Errorf("%s %s on a missing conversation: %d %s", rt.method, rt.path, missing.Status, missing.Raw)
		}
		for _, who := range []*servertest.API{stranger, leaver} {
			r := who.Do(rt.method, fmt.Sprintf(rt.path, gid), rt.body)
			if r.Status != 404 || string(r.Raw) != string(missing.Raw) {
				t.Errorf("%s %s: %d %s, want the not-found answer %s", rt.method, rt.path, r.Status, r.Raw, missing.Raw)
			}
		}
		anon := &servertest.API{T: t, Base: srv.URL}
		if r := anon.Do(rt.method, fmt.Sprintf(rt.path, gid), rt.body); r.Status != 401 {
			t.Errorf("%s %s without a session: %d", rt.method, rt.path, r.Status)
		}
	}
	for _, c := range stranger.Must(200, "GET", "/api/v1/conversations", nil).Body["conversations"].([]any) {
		t.Errorf("stranger sees %v", c)
	}
	// Nothing was written by any of it.
	msgs := alice.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil).Body["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	if last["kind"] != "system" || len(msgs) != 4 {
		t.Fatalf("history changed: %v", msgs)
	}
}

// TestBadInput: malformed bodies get 400 with a code, nothing is written and
// the server keeps serving.
func TestBadInput(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
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
		r := alice.Do("POST", path, c.body)
		if r.Status != c.status || r.Code() == "" || r.Field() != c.field {
			t.Errorf("body %.60q: %d %s, want %d field %q", c.body, r.Status, r.Raw, c.status, c.field)
		}
	}
	msgs := alice.Must(200, "GET", path, nil).Body["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("bad input wrote messages: %v", msgs)
	}
	alice.Must(404, "GET", "/api/v1/nothing-here", nil)
	alice.Must(404, "GET", "/api/v1/conversations/abc", nil)
	alice.Must(200, "GET", "/api/v1/me", nil)
}

func TestCrossSiteRefused(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/groups", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Cookie", "parley_session="+alice.Token)
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
	owner := servertest.SignUp(t, srv.URL, "owner")
	g := owner.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Busy", "code": "busy-group"}).Obj("conversation")
	gid := id(g, "id")
	const senders, each = 20, 200
	var wg sync.WaitGroup
	apis := make([]*servertest.API, senders)
	for i := range apis {
		apis[i] = servertest.SignUp(t, srv.URL, fmt.Sprintf("sender%d", i))
		apis[i].Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "busy-group"})
	}
	base := id(owner.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d", gid), nil).Obj("conversation"), "last_seq")
	errs := make(chan string, senders*each)
	for i, a := range apis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				r := a.Do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": fmt.Sprintf("%d-%d", i, j), "text": "x"})
				if r.Status != 201 {
					errs <- fmt.Sprintf("send: %d %s", r.Status, r.Raw)
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
		r := owner.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages?after_seq=%d&limit=200", gid, after), nil)
		for _, m := range r.Body["messages"].([]any) {
			seqs = append(seqs, id(m.(map[string]any), "seq"))
		}
		if r.Body["has_more"] != true {
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
	alice := servertest.SignUp(t, srv.URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id(g, "id"))
	var wg sync.WaitGroup
	ids := make([]any, 50)
	created := make([]bool, 50)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := alice.Do("POST", path, map[string]any{"client_msg_id": "same", "text": "once"})
			ids[i], created[i] = r.Obj("message")["id"], r.Status == 201
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
	if msgs := alice.Must(200, "GET", path, nil).Body["messages"].([]any); len(msgs) != 2 {
		t.Fatalf("%d messages stored", len(msgs))
	}
}
