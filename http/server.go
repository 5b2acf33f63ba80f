// Package http serves Parley's REST API under /api/v1/, the WebSocket
// upgrade, health and metrics, and the embedded web app. routes.go lists the
// whole API; handle_*.go hold the handlers; errors.go maps error codes to
// statuses.
package http

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"parley"
	"parley/suggest"
	"parley/ws"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// CookieName is the session cookie.
const CookieName = "parley_session"

// SignedInCookieName is a cookie scripts may read, set beside the session
// cookie at login and removed at logout: it holds no secret, only tells the
// web app that asking GET /api/v1/me is worth it (a signed-out visitor's
// page then makes no request that fails).
const SignedInCookieName = "parley_signed_in"

// signedInMaxAge keeps the hint past any session's expiry: a session that
// ended is found out by a 401, after which the app drops the hint.
const signedInMaxAge = 400 * 24 * 60 * 60

// Service is what the HTTP server needs of the application layer
// (*service.Service): each handle_*.go file declares the part its routes
// use.
type Service interface {
	Accounts
	Account
	Conversations
	Messages
	Convo
	Admin
	Search
	Authenticate(ctx context.Context, token string) (parley.User, parley.Session, error)
	// Ready reports whether the node can serve (its database answers).
	Ready(ctx context.Context) error
}

// Options are what NewServer wires together.
type Options struct {
	Service  Service
	Realtime *ws.Server
	Log      *slog.Logger
	// Web serves the browser app at /; nil serves nothing there.
	Web http.Handler
	// Metrics is where the server registers its metrics; nil makes a
	// private registry.
	Metrics *prometheus.Registry
	// Suggest is the AI suggestion provider; nil when the feature is off.
	Suggest suggest.Provider
	// SuggestLimiter limits suggestion requests per user; nil: no limit.
	SuggestLimiter *suggest.Limiter
	// SuggestContext is how many recent messages go to the provider. Zero
	// value means suggest.DefaultContext (20).
	SuggestContext int
	// Extra routes (calls, push) registered on the API mux.
	Extra func(mux *http.ServeMux, auth func(h AuthedHandler) http.Handler)
	// Files serves uploads, attachments and photos; nil leaves their routes
	// out.
	Files Files
	// UploadLimiter limits uploads (files and photos) per user; nil: no
	// limit.
	UploadLimiter *suggest.Limiter
	// UploadTimeout bounds a request carrying a file. Zero means
	// DefaultUploadTimeout.
	UploadTimeout time.Duration
	// Push serves the Web Push routes; nil leaves them out (and features
	// says push:false).
	Push Push
	// Features reported by GET /api/v1/features besides suggestions.
	Features map[string]any
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (see clientAddr). Nil means
	// DefaultTrustedProxies; an empty list trusts none.
	TrustedProxies []netip.Prefix
	// BodyTimeout is how long a whole request, headers and body, may take
	// to arrive (see NewHTTPServer). Zero value means DefaultBodyTimeout.
	BodyTimeout time.Duration
	// MetricsToken, if set, serves GET /metrics to requests bearing it.
	// Empty: the handler serves no metrics (see MetricsHandler).
	MetricsToken string
	// Live returns the node's open WebSocket connections and the users
	// online on all nodes, for the admin figures; nil: none.
	Live func() (connections, onlineUsers int)
}

// Server is the HTTP side of a node.
type Server struct {
	opt      Options
	svc      Service
	log      *slog.Logger
	handler  http.Handler
	metrics  *metrics
	proxies  proxies
	draining atomic.Bool // see Drain
}

// Drain makes /readyz answer 503 from now on, so that balancers stop
// sending new requests while the node stops. Requests keep being served.
func (s *Server) Drain() { s.draining.Store(true) }

// NewServer returns the node's http.Handler.
func NewServer(opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = prometheus.NewRegistry()
	}
	if opt.SuggestContext == 0 {
		opt.SuggestContext = suggest.DefaultContext
	}
	s := &Server{opt: opt, svc: opt.Service, log: opt.Log, proxies: opt.TrustedProxies}
	if s.proxies == nil {
		s.proxies, _ = ParseTrustedProxies(DefaultTrustedProxies)
	}
	s.metrics = newMetrics(opt.Metrics)
	if opt.BodyTimeout == 0 {
		s.opt.BodyTimeout = DefaultBodyTimeout
	}
	s.handler = s.securityHeaders(s.checkURL(s.routes()))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// AuthedHandler is a handler that runs for a logged-in user.
type AuthedHandler func(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session)

// auth authenticates by cookie or bearer token and runs h, or answers 401.
func (s *Server) auth(h AuthedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, sess, err := s.svc.Authenticate(r.Context(), token(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, u, sess)
	})
}

// apiFunc is a JSON route for a logged-in user: it returns the status and
// body of the answer (nil body: no content), or an error.
type apiFunc func(r *http.Request, u parley.User, sess parley.Session) (int, any, error)

// api adapts an apiFunc: authentication, then the answer or the error.
func (s *Server) api(h apiFunc) http.Handler {
	return s.auth(func(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
		status, body, err := h(r, u, sess)
		switch {
		case err != nil:
			s.writeError(w, r, err)
		case body == nil:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, body)
		}
	})
}

// ids parses positive integer path values (a non-number is not found).
func ids(r *http.Request, names ...string) ([]int64, error) {
	out := make([]int64, len(names))
	for i, n := range names {
		v, err := strconv.ParseInt(r.PathValue(n), 10, 64)
		if err != nil || v <= 0 {
			return nil, parley.ErrNotFound
		}
		out[i] = v
	}
	return out, nil
}

// created is 201 when something new was made, else 200.
func created(isNew bool) int {
	if isNew {
		return http.StatusCreated
	}
	return http.StatusOK
}

// token takes the session token from "Authorization: Bearer" or the cookie.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// decode reads a JSON request body (at most MaxBodyBytes) with
// parley.Decode.
func decode(r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return parley.Errorf(parley.ETOOLARGE, "The request body is over %d bytes.", MaxBodyBytes)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return parley.Errorf(parley.EINVALID, "The request body did not arrive in time.")
		}
		return parley.Errorf(parley.EINVALID, "Could not read the request body.")
	}
	if err := parley.CheckJSONText(body); err != nil {
		return err
	}
	return parley.Decode(body, v)
}

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, parley.FieldErrorf(name, "%s must be a non-negative integer.", name)
	}
	return n, nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// readyTimeout bounds /readyz's check of the database: a node whose
// database takes longer is not ready.
const readyTimeout = time.Second

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("shutting down\n"))
		return
	}
	if err := s.svc.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	w.Write([]byte("ready\n"))
}
