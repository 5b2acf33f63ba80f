package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// API is a caller of a node's REST API: a test's client, with its bearer
// token (empty: anonymous). Its methods are Do and Must on Base and Token.
type API struct {
	T      testing.TB
	Base   string // the node's URL, e.g. Server.URL
	Token  string
	UserID int64 // set by SignUp
}

// Do is Do(a.T, a.Base, a.Token, method, path, body).
func (a *API) Do(method, path string, body any) Answer {
	a.T.Helper()
	return Do(a.T, a.Base, a.Token, method, path, body)
}

// Send is Send(a.T, a.Token, req).
func (a *API) Send(req *http.Request) Answer {
	a.T.Helper()
	return Send(a.T, a.Token, req)
}

// Must is Must(a.T, a.Base, a.Token, method, path, body, want).
func (a *API) Must(want int, method, path string, body any) Answer {
	a.T.Helper()
	return Must(a.T, a.Base, a.Token, method, path, body, want)
}

// Answer is a REST answer: the status, the JSON object decoded (nil if the
// answer is not JSON), the raw body and the headers.
type Answer struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

// Code is the error code of an error answer, "" for others.
func (a Answer) Code() string {
	if e, ok := a.Body["error"].(map[string]any); ok {
		return fmt.Sprint(e["code"])
	}
	return ""
}

// Field is the field named by an error answer, "" if none.
func (a Answer) Field() string {
	if e, ok := a.Body["error"].(map[string]any); ok {
		if f, ok := e["field"]; ok {
			return fmt.Sprint(f)
		}
	}
	return ""
}

// Obj returns a nested object of the body by key path.
func (a Answer) Obj(keys ...string) map[string]any {
	m := a.Body
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// client has no keep-alives, so a call never lands on a connection to a
// node the test has stopped, and a time limit, so a test never hangs.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

// Body is a request body of another type than JSON (an upload).
type Body struct {
	ContentType string
	Data        []byte
}

// Do sends a REST request to base+path, with a bearer token unless token
// is empty, and body (a string or []byte as is, a Body with its type, nil
// as nothing, anything else as JSON); it returns the answer, its JSON object decoded. A request
// that gets no answer (the node is down) returns status 0 with the error
// as Raw, for the caller to check: Do never stops the test, so any
// goroutine may call it.
func Do(t testing.TB, base, token, method, path string, body any) Answer {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case Body:
		rd, ctype = bytes.NewReader(b.Data), b.ContentType
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return Answer{Raw: []byte(err.Error())}
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	return Send(t, token, req)
}

// Send is Do for a request the caller built (other headers, a body that
// is not JSON): it adds the bearer token unless token is empty.
func Send(t testing.TB, token string, req *http.Request) Answer {
	t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return Answer{Raw: []byte(err.Error())}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil { // the answer was cut off
		return Answer{Raw: []byte(err.Error())}
	}
	r := Answer{Status: res.StatusCode, Raw: raw, Header: res.Header}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(raw, &r.Body) // Must checks it
	}
	return r
}

// Must is Do that stops the test (t.Fatalf) unless the status is want;
// only the test's goroutine may call it.
func Must(t testing.TB, base, token, method, path string, body any, want int) Answer {
	t.Helper()
	r := Do(t, base, token, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	if r.Body == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && len(r.Raw) > 0 {
		t.Fatalf("%s %s: bad JSON %q", method, path, r.Raw)
	}
	return r
}

// SignUp signs up and logs in name (email name@example.com, password
// "password-"+name) on the node at base and returns a caller for them.
func SignUp(t testing.TB, base, name string) *API {
	t.Helper()
	Must(t, base, "", "POST", "/api/v1/auth/signup", map[string]any{"username": name, "email": name + "@example.com", "password": "password-" + name}, 201)
	r := Must(t, base, "", "POST", "/api/v1/auth/login", map[string]any{"login": name, "password": "password-" + name}, 200)
	return &API{T: t, Base: base, Token: r.Body["token"].(string), UserID: int64(r.Obj("user")["id"].(float64))}
}
