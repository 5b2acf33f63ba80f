package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"parley/servertest"
)

// fuzzRoutes are the REST routes that read a body or a query string, with
// {c} for a conversation the caller is in and {u} for a user's id.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/auth/signup"},
	{"POST", "/api/v1/auth/login"},
	{"PATCH", "/api/v1/me"},
	{"GET", "/api/v1/users"},
	{"GET", "/api/v1/users/bob"},
	{"POST", "/api/v1/groups"},
	{"POST", "/api/v1/groups/join"},
	{"POST", "/api/v1/direct"},
	{"PATCH", "/api/v1/conversations/{c}"},
	{"POST", "/api/v1/conversations/{c}/code"},
	{"POST", "/api/v1/conversations/{c}/members"},
	{"PATCH", "/api/v1/conversations/{c}/members/{u}"},
	{"PATCH", "/api/v1/conversations/{c}/settings"},
	{"POST", "/api/v1/conversations/{c}/messages"},
	{"GET", "/api/v1/conversations/{c}/messages"},
	{"PATCH", "/api/v1/conversations/{c}/messages/2"},
	{"POST", "/api/v1/conversations/{c}/read"},
	{"DELETE", "/api/v1/sessions/{u}"},
}

// FuzzREST sends any body and query string to every route that reads
// them, as a stranger and as a member, through a node's real handler on
// SQLite: the answer is never a 5xx, always valid UTF-8, and JSON with an
// error code whenever it is an error. The seeds (run by go test) are a
// valid request and bad ones for each route.
func FuzzREST(f *testing.F) {
	seeds := []string{
		`{"username":"carol","email":"carol@example.com","password":"password-carol"}`,
		`{"login":"alice","password":"password-alice"}`,
		`{"display_name":"Al","accepting_messages":false}`,
		`{"name":"G2","code":"code-four-4"}`,
		`{"code":"nope-nope"}`,
		`{"username":"bob"}`,
		`{"role":"admin"}`,
		`{"level":"mute"}`,
		`{"client_msg_id":"f-1","text":"hello"}`,
		`{"text":"edited"}`,
		`{"seq":1}`,
		`{"seq":-1}`,
		`{"seq":1e400}`,
		`{"seq":"1"}`,
		`{"text":{"nested":[1,2,{"deep":null}]}}`,
		`{"client_msg_id":"a","text":"x"} trailing`,
		`[]`, `null`, `""`, `1`, `{`, `{"a":}`, ``, "\xff", `{"text":"\u0000"}`, `{"text":"\ud800"}`,
		`{"username":"` + strings.Repeat("x", 1000) + `"}`,
	}
	queries := []string{"", "prefix=al", "limit=5", "after_seq=1&limit=2", "before_seq=-1", "limit=99999999999999999999",
		"prefix=%zz", "a;b", "limit=1&limit=2"}
	for i, body := range seeds {
		f.Add(uint8(i), queries[i%len(queries)], []byte(body), i%3 != 0)
	}
	srv := servertest.Start(f)
	alice := servertest.SignUp(f, srv.URL, "alice")
	bob := servertest.SignUp(f, srv.URL, "bob")
	bobID := int64(bob.Must(200, "GET", "/api/v1/me", nil).Obj("user")["id"].(float64))
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
	gid := id(g, "id")
	alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": "m", "text": "hi"})

	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte, authed bool) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.NewReplacer("{c}", fmt.Sprint(gid), "{u}", fmt.Sprint(bobID)).Replace(r.path)
		req := httptest.NewRequest(r.method, "/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawQuery = path, query
		req.Header.Set("Content-Type", "application/json")
		if authed {
			req.Header.Set("Authorization", "Bearer "+alice.Token)
		}
		w := httptest.NewRecorder()
		srv.Node.HTTP.ServeHTTP(w, req)
		res := w.Result()
		out := w.Body.Bytes()
		what := fmt.Sprintf("%s %s?%q body %q", r.method, path, query, body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", what, res.StatusCode, out)
		}
		if !utf8.Valid(out) {
			t.Fatalf("%s: answer is not UTF-8: %q", what, out)
		}
		if res.StatusCode >= 400 {
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(out, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s: %d with no error body: %q", what, res.StatusCode, out)
			}
		} else if len(out) > 0 && !json.Valid(out) {
			t.Fatalf("%s: %d, not JSON: %q", what, res.StatusCode, out)
		}
		if res.StatusCode == http.StatusOK && r.path == "/api/v1/auth/login" {
			// A login made a session: drop it, or sessions pile up.
			var l struct {
				Token string `json:"token"`
			}
			json.Unmarshal(out, &l)
			req := httptest.NewRequest("POST", "/api/v1/auth/logout", nil)
			req.Header.Set("Authorization", "Bearer "+l.Token)
			srv.Node.HTTP.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
