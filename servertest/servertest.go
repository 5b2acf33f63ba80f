// Package servertest starts real Parley nodes on loopback ports for tests:
// the same wiring as `parley serve` (package app), a fresh SQLite folder
// (or the store and bus a test asks for), and a listener that can cut every
// TCP connection at once to simulate a network failure. It also holds the
// helpers every test shares: WaitFor (poll until a condition holds,
// instead of sleeping) and the REST caller (Do, Must, API, SignUp).
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"parley/app"
	phttp "parley/http"
	"parley/openapi/openapitest"
)

// Server is one running node.
type Server struct {
	URL  string
	Node *app.Node
	Cfg  app.Config

	t    testing.TB
	ln   *trackingListener
	srv  *http.Server
	done chan struct{}
	once sync.Once

	reportMu sync.Mutex
	closed   bool // no more reports: the test may have ended
}

// Option changes the node's configuration before it starts.
type Option func(*app.Config)

// WithConfig lets a test adjust any setting.
func WithConfig(f func(*app.Config)) Option { return Option(f) }

// Start runs a node on 127.0.0.1 with a fresh data folder and stops it when
// the test ends. Password hashing uses the minimum cost to keep tests fast.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return StartConfig(t, config(t, opts))
}

// config is Start's configuration.
func config(t testing.TB, opts []Option) app.Config {
	cfg := app.Config{DataDir: t.TempDir(), NoWeb: true}
	cfg.Service.Hash.Memory = 8 * 1024
	cfg.Service.Hash.Time = 1
	// Tests sign many people up from one address.
	cfg.Service.SignupsPerHour = 1 << 20
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// StartConfig runs a node with exactly cfg. Every answer it gives is
// checked against the API's OpenAPI description (openapitest.Handler): a
// route, status or field the description does not have fails the test.
func StartConfig(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return startLogged(t, cfg, log)
}

// StartLogged is Start with the node logging to log, for tests that check
// what it logs.
func StartLogged(t testing.TB, log *slog.Logger, opts ...Option) *Server {
	t.Helper()
	return startLogged(t, config(t, opts), log)
}

func startLogged(t testing.TB, cfg app.Config, log *slog.Logger) *Server {
	t.Helper()
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	node, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		node.Close()
		t.Fatalf("listen: %v", err)
	}
	ln := &trackingListener{Listener: inner, conns: make(map[net.Conn]struct{})}
	s := &Server{URL: "http://" + inner.Addr().String(), Node: node, Cfg: cfg, t: t, ln: ln,
		done: make(chan struct{})}
	s.srv = phttp.NewHTTPServer(node.HTTP, log)
	s.srv.Handler = spec.Handler(node.HTTP, s.report)
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	t.Cleanup(s.Close)
	return s
}

// report fails the test with a mismatch between an answer and the API's
// description, unless the node has stopped (a handler still running after
// Kill may outlive the test).
func (s *Server) report(msg string) {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	if !s.closed {
		s.t.Errorf("%s", msg)
	}
}

func (s *Server) stopReports() {
	s.reportMu.Lock()
	s.closed = true
	s.reportMu.Unlock()
}

// Close shuts the node down gracefully (WebSockets get 1001).
func (s *Server) Close() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Node.Shutdown(ctx)
		s.srv.Shutdown(ctx)
		s.ln.CutAll()
		<-s.done
		s.stopReports()
		s.Node.Close()
	})
}

// Kill stops the node abruptly: every TCP connection is cut and nothing is
// flushed or said to clients (the in-process stand-in for kill -9; tests of
// durability across a real kill -9 run the binary).
func (s *Server) Kill() {
	s.once.Do(func() {
		s.srv.Close()
		s.ln.CutAll()
		<-s.done
		s.stopReports()
		s.Node.Close()
	})
}

// CutConnections closes every open TCP connection to the node (server side)
// without any WebSocket close handshake, as a network failure would. The
// node keeps serving new connections.
func (s *Server) CutConnections() int { return s.ln.CutAll() }

type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// CutAll closes every tracked connection and returns how many.
func (l *trackingListener) CutAll() int {
	l.mu.Lock()
	all := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		all = append(all, c)
	}
	l.mu.Unlock()
	for _, c := range all {
		c.Close()
	}
	return len(all)
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
