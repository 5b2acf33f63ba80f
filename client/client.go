// Package client is Parley's Go client. It speaks the REST API and the
// realtime WebSocket protocol described in docs/protocol.md.
//
// A Client makes REST calls with a bearer token:
//
//	c := client.New("http://localhost:8080")
//	if _, err := c.Login(ctx, "alice", "secret-password"); err != nil { ... }
//	conv, _, err := c.Direct(ctx, "bob")
//	msg, _, err := c.Send(ctx, conv.ID, "c-1", "hello")
//
// Connect opens a realtime session (see Realtime) that keeps one WebSocket
// open, reconnects with backoff, resyncs after every reconnect and hands
// events to a Handler in order, each message exactly once:
//
//	rt, err := c.Connect(ctx, client.Handler{
//		OnMessage: func(m parley.Message, change string) { ... },
//	})
//	defer rt.Close()
//	msg, err := rt.Send(ctx, conv.ID, "hello")
//
// Errors the server reports are *Error values; use errors.As or ErrorCode.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley"
)

// apiPrefix is the path under which the server serves the API.
const apiPrefix = "/api/v1"

// maxResponse bounds the size of a REST response body the client reads.
const maxResponse = 64 << 20

// Client calls a Parley server. It is safe for concurrent use. A Client
// holds at most one bearer token (one session); use one Client per user or
// device.
type Client struct {
	base      *url.URL
	http      *http.Client
	log       *slog.Logger
	origin    string
	userAgent string

	mu        sync.Mutex
	token     string
	sessionID int64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client used for REST calls and WebSocket
// handshakes. Zero value: http.DefaultClient. Its Timeout, if any, bounds
// REST calls and WebSocket handshakes, not the life of a WebSocket.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithLogger sets the logger for connection events (reconnects, dropped
// frames). Zero value: logs are discarded.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithOrigin sets the Origin header sent with every request and WebSocket
// handshake. Zero value: no Origin header (a non-browser client).
func WithOrigin(origin string) Option { return func(c *Client) { c.origin = origin } }

// WithUserAgent sets the User-Agent header, which the server shows in the
// session list. Zero value: "parley-go-client".
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the server at baseURL (e.g.
// "http://localhost:8080"; a path, if any, is kept as a prefix). It panics
// if baseURL is not an absolute http or https URL, which is a programming
// error.
func New(baseURL string, opts ...Option) *Client {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		panic(fmt.Sprintf("client: bad base URL %q", baseURL))
	}
	c := &Client{base: u, http: http.DefaultClient, userAgent: "parley-go-client"}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Token returns the bearer token, "" if none.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// SetToken sets the bearer token sent with every request ("" for none).
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
}

// SessionID returns the id of the session created by the last Login, 0 if
// none.
func (c *Client) SessionID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// Error is an error reported by the server: an HTTP status (0 for an error
// reply on the WebSocket), the machine-readable code (the parley.E*
// constants), a message fit for
// people and, when one input field is at fault, its name. RetryAfter is set
// for rate_limited answers that say when to try again.
type Error struct {
	Status     int
	Code       string
	Message    string
	Field      string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("parley: ")
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(' ')
	}
	b.WriteString(e.Code)
	if e.Field != "" {
		b.WriteString(" (" + e.Field + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// ErrorCode returns the code of the *Error in err's chain, "" if there is
// none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// toError turns the protocol's error object into an *Error.
func toError(w *parley.ErrorBody, status int) *Error {
	return &Error{Status: status, Code: w.Code, Message: w.Message, Field: w.Field,
		RetryAfter: time.Duration(w.RetryAfterMS) * time.Millisecond}
}

// url returns the absolute URL of an API path (which starts with "/").
func (c *Client) url(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + apiPrefix + path
	u.RawPath = ""
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// header sets the headers common to REST calls and WebSocket handshakes.
func (c *Client) header(h http.Header) {
	if tok := c.Token(); tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	if c.origin != "" {
		h.Set("Origin", c.origin)
	}
	if c.userAgent != "" {
		h.Set("User-Agent", c.userAgent)
	}
}

// do makes one REST call: in (if not nil) is sent as the JSON body, a 2xx
// answer is decoded into out (if not nil) and its status returned; any
// other answer becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (int, error) {
	if in == nil {
		return c.send(ctx, method, path, query, nil, "", -1, out)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return 0, fmt.Errorf("client: encode %s %s: %w", method, path, err)
	}
	return c.send(ctx, method, path, query, bytes.NewReader(b), "application/json", int64(len(b)), out)
}

// send makes one REST call with body (if not nil) of the given type and
// length (-1: unknown), and reads the answer as do does.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body io.Reader, ctype string, length int64, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, query), body)
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	c.header(req.Header)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", ctype)
		req.ContentLength = length
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode, responseError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("client: decode %s %s: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

// responseError turns an error answer (REST or a refused WebSocket
// handshake) into an *Error. Bodies that are not the protocol's error
// object still give an *Error with the status and a code derived from it.
func responseError(resp *http.Response) *Error {
	var w struct {
		Error *parley.ErrorBody `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e *Error
	if json.Unmarshal(b, &w) == nil && w.Error != nil && w.Error.Code != "" {
		e = toError(w.Error, resp.StatusCode)
	} else {
		e = &Error{Status: resp.StatusCode, Code: statusCode(resp.StatusCode),
			Message: strings.TrimSpace(string(b))}
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// statusCode names the protocol's error code for an HTTP status, for
// answers that carry no error object (e.g. from a proxy).
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return parley.EINVALID
	case http.StatusUnauthorized:
		return parley.EUNAUTHORIZED
	case http.StatusForbidden:
		return parley.EFORBIDDEN
	case http.StatusNotFound:
		return parley.ENOTFOUND
	case http.StatusConflict:
		return parley.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		return parley.ETOOLARGE
	case http.StatusTooManyRequests:
		return parley.ERATELIMITED
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return parley.EUNAVAILABLE
	default:
		return parley.EINTERNAL
	}
}
