package http

import (
	"log/slog"
	"net/http"
	"time"
)

// Timeouts of the node's HTTP server (docs/deploy.md, "Security").
const (
	// HeaderTimeout bounds the arrival of a request's headers.
	HeaderTimeout = 10 * time.Second
	// DefaultBodyTimeout bounds the arrival of a whole request, headers and
	// body (Options.BodyTimeout, --body-timeout).
	DefaultBodyTimeout = 30 * time.Second
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout = 120 * time.Second
)

// NewHTTPServer returns the http.Server for a node's handler, with its
// timeouts: headers within HeaderTimeout, the whole request within the
// handler's BodyTimeout (past it, reading the body fails, decode answers
// 400, and the connection closes), keep-alive connections closed after
// IdleTimeout.
//
// The body deadline ends with the body: net/http lifts the connection's
// read deadline once a request's body has been read to its end (at once
// for a request without one, a WebSocket upgrade among them), so a handler
// may answer for as long as it needs (a stream of suggestions), and a
// WebSocket, once upgraded, lives on its own keepalive. A route whose body
// may take longer (uploads) moves the deadline with WithBodyTimeout.
func NewHTTPServer(h *Server, log *slog.Logger) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: HeaderTimeout, ReadTimeout: h.opt.BodyTimeout, IdleTimeout: IdleTimeout}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}

// WithBodyTimeout gives the requests of one route d from now, instead of
// the server's body timeout, to deliver their body. Uploads use it.
func WithBodyTimeout(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}
