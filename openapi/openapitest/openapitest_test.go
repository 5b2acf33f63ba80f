package openapitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serve sends one request through the validator to a handler registered
// at pattern, and returns what it reported.
func serve(t *testing.T, pattern string, h http.HandlerFunc, method, path, body string) []string {
	t.Helper()
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(pattern, h)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		io.WriteString(w, `{"error":{"code":"not_found","message":"No such API route."}}`)
	})
	var got []string
	srv := httptest.NewServer(v.Handler(mux, func(msg string) { got = append(got, msg) }))
	defer srv.Close()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return got
}

func json(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func wantReport(t *testing.T, got []string, parts ...string) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("reports %q, want one", got)
	}
	for _, p := range parts {
		if !strings.Contains(got[0], p) {
			t.Errorf("report %q does not say %q", got[0], p)
		}
	}
}

const features = `{"suggestions":false,"calls":false,"push":false,"version":"dev"}`

// An answer the description has: nothing reported.
func TestDescribedAnswerPasses(t *testing.T) {
	if got := serve(t, "GET /api/v1/features", json(200, features), "GET", "/api/v1/features", ""); len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
	// An error answer, in the 4XX range.
	got := serve(t, "GET /api/v1/conversations/{id}", json(404, `{"error":{"code":"not_found","message":"Not found."}}`),
		"GET", "/api/v1/conversations/7", "")
	if len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
	// An unknown route, answered by the API's catch-all.
	if got := serve(t, "GET /api/v1/features", json(200, features), "GET", "/api/v1/nothing-here", ""); len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
}

// A route the server has and the description does not.
func TestUndocumentedRoute(t *testing.T) {
	got := serve(t, "POST /api/v1/widgets", json(201, `{}`), "POST", "/api/v1/widgets", `{}`)
	wantReport(t, got, "undocumented route POST /api/v1/widgets", `"POST /api/v1/widgets"`, "openapi/openapi.json")
	// A method the description lacks on a path it has.
	got = serve(t, "DELETE /api/v1/features", json(200, features), "DELETE", "/api/v1/features", "")
	wantReport(t, got, "undocumented route DELETE /api/v1/features")
}

// A field the description does not have, and one it requires missing.
func TestUndocumentedField(t *testing.T) {
	got := serve(t, "GET /api/v1/features", json(200, `{"suggestions":false,"calls":false,"push":false,"version":"dev","teleport":true}`),
		"GET", "/api/v1/features", "")
	wantReport(t, got, "GET /api/v1/features", "answered 200", "teleport")
	got = serve(t, "GET /api/v1/me", json(200, `{"user":{"id":1,"username":"a","display_name":"A","accepting_messages":true,"created_at":"2024-01-01T00:00:00Z","shoe_size":44}}`),
		"GET", "/api/v1/me", "")
	wantReport(t, got, "GET /api/v1/me", "/user", "shoe_size")
	got = serve(t, "GET /api/v1/features", json(200, `{"suggestions":false,"calls":false,"version":"dev"}`), "GET", "/api/v1/features", "")
	wantReport(t, got, "push")
}

// A status the description does not list for the route.
func TestUndocumentedStatus(t *testing.T) {
	got := serve(t, "POST /api/v1/groups", json(202, `{}`), "POST", "/api/v1/groups", `{"name":"g"}`)
	wantReport(t, got, "POST /api/v1/groups", "answered 202", "not described")
	// An error body that is not the error shape.
	got = serve(t, "POST /api/v1/groups", json(400, `{"oops":1}`), "POST", "/api/v1/groups", `{"name":"g"}`)
	wantReport(t, got, "answered 400", "oops")
}

// A request the description calls invalid, which the server accepted: the
// description misses a field (or is stricter than the server).
func TestAcceptedUndocumentedInput(t *testing.T) {
	group := `{"conversation":{"id":1,"kind":"group","name":"g","created_at":"2024-01-01T00:00:00Z","last_seq":0,"last_mod":0,` +
		`"last_activity":"2024-01-01T00:00:00Z","member_count":1,"role":"owner","read_seq":0,"delivered_seq":0,"unread":0,` +
		`"unread_mentions":0,"notify":{"level":"default"}}}`
	if got := serve(t, "POST /api/v1/groups", json(201, group), "POST", "/api/v1/groups", `{"name":"g"}`); len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
	got := serve(t, "POST /api/v1/groups", json(201, group), "POST", "/api/v1/groups", `{"name":"g","colour":"red"}`)
	wantReport(t, got, "POST /api/v1/groups", "calls invalid", "colour")
	// Refusing it is fine: tests send bad input on purpose.
	got = serve(t, "POST /api/v1/groups", json(400, `{"error":{"code":"invalid","message":"Unknown field.","field":"colour"}}`),
		"POST", "/api/v1/groups", `{"name":"g","colour":"red"}`)
	if len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
}

// Routes a test adds for itself, and the web app, are not checked.
func TestUncheckedPaths(t *testing.T) {
	if got := serve(t, "POST /api/v1/test/slow", json(299, `{}`), "POST", "/api/v1/test/slow", ""); len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
	if got := serve(t, "GET /app.js", json(200, `x`), "GET", "/app.js", ""); len(got) > 0 {
		t.Fatalf("reported %q", got)
	}
}
