// Package openapitest checks a server's answers against Parley's OpenAPI
// description (package openapi). servertest wraps every node it starts with
// Handler, so every request the tests send to a node through servertest is
// checked: a route, a status, a content type or a field the description
// does not have fails the test, with a message naming it.
package openapitest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"parley/openapi"
)

// TestRoutes is where a test registers routes of its own (app.Config.Extra):
// they are not part of the API, and not checked.
const TestRoutes = "/api/v1/test/"

// maxCapture is how much of a request or response body is kept to be
// checked; a longer body (a file) is not checked (its content type is).
const maxCapture = 1 << 20

// Validator checks requests and answers against the description.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	loadOnce sync.Once
	loaded   *Validator
	loadErr  error
)

// Load parses and validates the description once per process.
func Load() (*Validator, error) {
	loadOnce.Do(func() { loaded, loadErr = load(openapi.JSON) })
	return loaded, loadErr
}

func load(spec []byte) (*Validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI description: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Doc is the parsed description.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Checked reports whether answers to path are checked: the API under
// /api/ (but for TestRoutes), health and metrics. The web app is not.
func Checked(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, TestRoutes)
}

// Handler serves next and checks each request and answer against the
// description, calling report with a message for each mismatch:
//   - an undocumented route (one the server routes to a handler of its
//     own: the API's catch-all 404 for unknown routes is expected);
//   - an undocumented status (2XX and 3XX must each be listed; 4XX and 5XX
//     may be covered by a range), content type, header or body field;
//   - a request the description calls invalid that the server accepted
//     (2XX): the description is stricter than the server, or misses a
//     parameter or field.
//
// Requests are not judged otherwise: tests send bad requests on purpose.
func (v *Validator) Handler(next http.Handler, report func(msg string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Checked(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		var reqBody *capture
		if r.Body != nil && r.Body != http.NoBody {
			reqBody = &capture{ReadCloser: r.Body}
			r.Body = reqBody
		}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if msg := v.check(r, reqBody, rec); msg != "" {
			report(msg)
		}
	})
}

// check returns what is wrong with the exchange, or "".
func (v *Validator) check(r *http.Request, reqBody *capture, rec *recorder) string {
	status := rec.status
	if status == 0 && !rec.hijacked {
		status = http.StatusOK // nothing written
	}
	if status == 499 {
		return "" // the client went away; no one reads the answer
	}
	// A copy of the request as it arrived, for the router and the checks.
	req := r.Clone(context.Background())
	req.Body = http.NoBody
	if reqBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(reqBody.buf.Bytes()))
	}
	if req.Header.Get("Content-Type") == "" && reqBody != nil {
		// The server reads JSON bodies whatever their Content-Type says;
		// clients may leave it out.
		req.Header.Set("Content-Type", "application/json")
	}
	req.Method = r.Method
	if req.Method == http.MethodHead {
		req.Method = http.MethodGet // served by the GET route
	}
	if req.Host == "" {
		req.Host = "localhost"
	}
	req.URL.Host = req.Host
	req.URL.Scheme = "http"
	name := r.Method + " " + r.URL.Path
	route, params, err := v.router.FindRoute(req)
	switch r.Pattern {
	case "", "/":
		// Not served by the API (no route, or the web app: /metrics
		// without a metrics token).
		return ""
	case "/api/":
		if err != nil {
			return "" // no route in the server either: the catch-all answered
		}
	}
	if err != nil {
		return fmt.Sprintf("openapi: undocumented route %s (the server routes it to %q and answered %d): describe it in openapi/openapi.json",
			name, r.Pattern, status)
	}
	op := fmt.Sprintf("%s %s", route.Method, route.Path)
	if rec.hijacked {
		if route.Operation.Responses.Value("101") == nil {
			return fmt.Sprintf("openapi: %s (%s) switched protocols, and status 101 is not described", op, name)
		}
		return ""
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		MultiError:            true,
		IncludeResponseStatus: true,
		ExcludeRequestBody:    reqBody != nil && reqBody.over,
		ExcludeResponseBody:   rec.over || r.Method == http.MethodHead,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if status/100 == 2 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Sprintf("openapi: %s (%s) answered %d to a request the description calls invalid — describe what the server accepts:\n%s",
				op, name, status, explain(err))
		}
	}
	if status/100 == 2 || status/100 == 3 {
		// Success statuses are listed one by one, never as a range.
		if status != http.StatusNotModified && route.Operation.Responses.Value(fmt.Sprint(status)) == nil {
			return fmt.Sprintf("openapi: %s (%s) answered %d, and that status is not described for it", op, name, status)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: rec.Header(), Options: opts}
	out.SetBodyBytes(rec.buf.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		body := rec.buf.String()
		if len(body) > 2000 {
			body = body[:2000] + "…"
		}
		return fmt.Sprintf("openapi: %s (%s) answered %d (%s), which the description does not allow:\n%s\nbody: %s",
			op, name, status, rec.Header().Get("Content-Type"), explain(err), body)
	}
	return ""
}

// explain lists the errors of a validation, one a line, with where in the
// body each is.
func explain(err error) string {
	var lines []string
	var walk func(error)
	walk = func(err error) {
		var multi openapi3.MultiError
		var schema *openapi3.SchemaError
		var resp *openapi3filter.ResponseError
		var req *openapi3filter.RequestError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e)
			}
		case errors.As(err, &resp) && resp.Err != nil:
			lines = append(lines, "  "+resp.Reason)
			walk(resp.Err)
		case errors.As(err, &req) && req.Err != nil && !errors.As(req.Err, &schema):
			lines = append(lines, "  "+req.Error())
		case errors.As(err, &schema):
			at := "/" + strings.Join(schema.JSONPointer(), "/")
			reason := schema.Reason
			if rest, ok := strings.CutPrefix(reason, "at '"); ok && at == "/" {
				// The JSON Schema 2020 validator says where itself.
				at, reason, _ = strings.Cut(rest, "': ")
				at = "/" + strings.TrimPrefix(at, "/")
			}
			lines = append(lines, fmt.Sprintf("  at %s: %s", at, reason))
		default:
			lines = append(lines, "  "+err.Error())
		}
	}
	walk(err)
	return strings.Join(lines, "\n")
}

// capture keeps the first maxCapture bytes read from a body.
type capture struct {
	io.ReadCloser
	buf  bytes.Buffer
	over bool
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if !c.over {
		if c.buf.Len()+n > maxCapture {
			c.over = true
			c.buf.Reset()
		} else {
			c.buf.Write(p[:n])
		}
	}
	return n, err
}

// recorder passes an answer through, keeping its status and the first
// maxCapture bytes of its body.
type recorder struct {
	http.ResponseWriter
	status   int
	buf      bytes.Buffer
	over     bool
	hijacked bool
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !w.over {
		if w.buf.Len()+len(b) > maxCapture {
			w.over = true
			w.buf.Reset()
		} else {
			w.buf.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection over (a WebSocket upgrade).
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, rw, err
}
