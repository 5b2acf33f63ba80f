package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"parley/app"
	"parley/pgtest"
	"parley/servertest"
)

// textCase is one request carrying a NUL or invalid UTF-8 somewhere.
type textCase struct {
	name         string
	method, path string
	body         string
	auth         bool
}

// badTextCases put a NUL, a byte that is not UTF-8, or an unpaired
// surrogate in every kind of input: bodies (each field a stranger or a
// user reaches), query strings and path values. %d in a path is the
// group's id.
func badTextCases() []textCase {
	var cs []textCase
	for _, bad := range []struct{ name, json, url string }{
		{"NUL", `\u0000`, "%00"},
		{"not UTF-8", "\xff\xfe", "%FF%FE"},
		{"lone surrogate", `\ud800`, ""},
	} {
		add := func(name, method, path, body string, auth bool) {
			cs = append(cs, textCase{bad.name + " in " + name, method, path, body, auth})
		}
		b := bad.json
		add("sign-up username", "POST", "/api/v1/auth/signup", `{"username":"mal`+b+`lory","email":"m@example.com","password":"password-1"}`, false)
		add("sign-up email", "POST", "/api/v1/auth/signup", `{"username":"mallory","email":"m`+b+`@example.com","password":"password-1"}`, false)
		add("sign-up password", "POST", "/api/v1/auth/signup", `{"username":"mallory","email":"m@example.com","password":"password-`+b+`"}`, false)
		add("login", "POST", "/api/v1/auth/login", `{"login":"ali`+b+`ce","password":"password-alice"}`, false)
		add("login password", "POST", "/api/v1/auth/login", `{"login":"alice","password":"password-alice`+b+`"}`, false)
		add("a field name", "POST", "/api/v1/auth/login", `{"log`+b+`in":"alice","password":"password-alice"}`, false)
		add("display name", "PATCH", "/api/v1/me", `{"display_name":"Al`+b+`ice"}`, true)
		add("group name", "POST", "/api/v1/groups", `{"name":"G`+b+`"}`, true)
		add("group code", "POST", "/api/v1/groups", `{"name":"G","code":"code-`+b+`-1"}`, true)
		add("join code", "POST", "/api/v1/groups/join", `{"code":"code`+b+`"}`, true)
		add("direct username", "POST", "/api/v1/direct", `{"username":"bo`+b+`b"}`, true)
		add("rename", "PATCH", "/api/v1/conversations/%d", `{"name":"H`+b+`"}`, true)
		add("message text", "POST", "/api/v1/conversations/%d/messages", `{"client_msg_id":"c-1","text":"hi `+b+`"}`, true)
		add("client_msg_id", "POST", "/api/v1/conversations/%d/messages", `{"client_msg_id":"c-`+b+`","text":"hi"}`, true)
		add("edit text", "PATCH", "/api/v1/conversations/%d/messages/1", `{"text":"hey `+b+`"}`, true)
		add("suggestion prompt", "POST", "/api/v1/conversations/%d/suggestions", `{"prompt":"hey `+b+`"}`, true)
		if u := bad.url; u != "" {
			add("path username", "GET", "/api/v1/users/ali"+u+"ce", "", true)
			add("path id", "GET", "/api/v1/conversations/1"+u, "", true)
			add("query prefix", "GET", "/api/v1/users?prefix=al"+u, "", true)
			add("query limit", "GET", "/api/v1/conversations/%d/messages?limit=1"+u, "", true)
			add("query name", "GET", "/api/v1/users?pre"+u+"fix=al", "", true)
			add("login path", "POST", "/api/v1/auth/login"+u, `{"login":"alice","password":"password-alice"}`, false)
		}
	}
	return cs
}

// badOps are WebSocket operations with the same faults.
func badOps() []string {
	var ops []string
	for _, b := range []string{`\u0000`, "\xff\xfe", `\ud800`} {
		ops = append(ops,
			`{"op":"send","id":"s","conversation_id":%d,"client_msg_id":"w-1","text":"hi `+b+`"}`,
			`{"op":"send","id":"s","conversation_id":%d,"client_msg_id":"w-`+b+`","text":"hi"}`,
			`{"op":"edit","id":"s","conversation_id":%d,"seq":1,"text":"x`+b+`"}`,
			`{"op":"sync","id":"s","cursors":{"%d`+b+`":0}}`,
			`{"op":"ping","id":"s","x`+b+`":1}`,
			`{"op":"pi`+b+`ng","id":"s"}`,
			`{"op":"typing","id":"s`+b+`","conversation_id":%d,"active":true}`,
		)
	}
	return ops
}

// TestBadTextSameOnBothStores: a NUL, bytes that are not UTF-8 or an
// unpaired surrogate, in any input, get 400 invalid (or an invalid reply on
// the WebSocket) and change nothing, on a SQLite node and on a PostgreSQL
// node alike: the same status, code and message.
func TestBadTextSameOnBothStores(t *testing.T) {
	db := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_text_")})
	nodes := map[string]*servertest.Server{
		"SQLite":     servertest.Start(t),
		"PostgreSQL": servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.DatabaseURL = db })),
	}
	answers := map[string]map[string]string{}
	for store, srv := range nodes {
		alice := servertest.SignUp(t, srv.URL, "alice")
		servertest.SignUp(t, srv.URL, "bob")
		g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
		gid := id(g, "id")
		alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": "first", "text": "first"})
		got := map[string]string{}
		anon := &servertest.API{T: t, Base: srv.URL}
		for _, c := range badTextCases() {
			who := anon
			if c.auth {
				who = alice
			}
			path := c.path
			if strings.Contains(path, "%d") {
				path = fmt.Sprintf(path, gid)
			}
			var body any
			if c.body != "" {
				body = c.body
			}
			r := who.Do(c.method, path, body)
			if r.Status != 400 || r.Code() != "invalid" {
				t.Errorf("%s, %s: %d %s; want 400 invalid", store, c.name, r.Status, r.Raw)
			}
			got[c.name] = fmt.Sprintf("%d %s", r.Status, r.Raw)
		}
		ws, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + alice.Token}}})
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range badOps() {
			op = strings.ReplaceAll(op, "%d", fmt.Sprint(gid))
			reply := wsReply(t, ws, op)
			var r struct {
				OK    bool `json:"ok"`
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(reply), &r); err != nil || r.OK || r.Error.Code != "invalid" {
				t.Errorf("%s, op %q: reply %q (%v); want an invalid error", store, op, reply, err)
			}
			got[fmt.Sprintf("ws %d", i)] = reply
		}
		ws.CloseNow()
		// A User-Agent that is not UTF-8 (net/http lets such bytes through)
		// does not stop a login; it is kept with the bad bytes replaced and
		// cut to 256 bytes on a character boundary.
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/login", strings.NewReader(`{"login":"bob","password":"password-bob"}`))
		req.Header.Set("User-Agent", "Mozilla\xff/5.0 "+strings.Repeat("é", 200))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var login struct {
			Token string `json:"token"`
		}
		json.NewDecoder(res.Body).Decode(&login)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: login with a User-Agent that is not UTF-8: %d", store, res.StatusCode)
		}
		bob := &servertest.API{T: t, Base: srv.URL, Token: login.Token}
		sessions := bob.Must(200, "GET", "/api/v1/sessions", nil).Body["sessions"].([]any)
		ua := sessions[0].(map[string]any)["user_agent"].(string)
		if !strings.HasPrefix(ua, "Mozilla\ufffd/5.0 éé") || len(ua) > 256 || !utf8.ValidString(ua) {
			t.Errorf("%s: user agent kept as %q (%d bytes)", store, ua, len(ua))
		}
		got["user agent"] = ua
		// Nothing changed.
		msgs := alice.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil).Body["messages"].([]any)
		if len(msgs) != 2 { // "created" and "first"
			t.Errorf("%s: %d messages after bad input, want 2", store, len(msgs))
		}
		if me := alice.Must(200, "GET", "/api/v1/me", nil).Obj("user"); me["display_name"] != "alice" {
			t.Errorf("%s: display name %q", store, me["display_name"])
		}
		answers[store] = got
	}
	for k, v := range answers["SQLite"] {
		if w := answers["PostgreSQL"][k]; w != v {
			t.Errorf("%s: SQLite %s, PostgreSQL %s", k, v, w)
		}
	}
}

// wsReply sends one frame and returns the reply to it (id "s" or none),
// skipping events.
func wsReply(t *testing.T, ws *websocket.Conn, frame string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reply to %q: %v", frame, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, `{"re":`) {
				return line
			}
		}
	}
}
