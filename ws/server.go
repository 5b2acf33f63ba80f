// Package ws serves Parley's realtime WebSocket (/api/v1/ws): one reader and
// one writer goroutine per connection, a bounded outbound queue, ping/pong
// keepalive, operations over the same service layer as REST, and events from
// the node's hub.Registry.
package ws

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/hub"
	"parley/service"
)

// Defaults of the Config fields that are also serve's flags.
const (
	DefaultMaxConnsPerUser = 20
	DefaultWriteInterval   = 40 * time.Millisecond
	// The outbound queue's limits (see queue.go).
	DefaultQueueBytes  = 4 << 20
	DefaultQueueAge    = 5 * time.Second
	DefaultQueueBudget = 1 << 30
)

// Config holds the realtime limits. Zero values mean the defaults written on
// each field; docs/protocol.md lists them.
type Config struct {
	// QueueBytes bounds a connection's outbound queue in bytes (see
	// queue.go). Zero value means DefaultQueueBytes (4 MiB).
	QueueBytes int
	// QueueAge bounds the age of the oldest frame of a connection's queue,
	// and how long one write may take. Zero value means DefaultQueueAge
	// (5 s).
	QueueAge time.Duration
	// QueueBudget bounds all the node's queues together, a frame shared by
	// many connections counted once. Zero value means DefaultQueueBudget
	// (1 GiB).
	QueueBudget int64
	// MaxFrame is the largest incoming frame. Zero value means 64 KiB.
	MaxFrame int64
	// OpsPerSecond and OpsBurst rate-limit operations per connection. Zero
	// values mean 50 and 100.
	OpsPerSecond float64
	OpsBurst     int
	// MaxRejected is how many rate-limited operations in a row close the
	// connection (1008). Zero value means 200.
	MaxRejected int
	// MaxConnsPerUser bounds a user's connections on this node. Zero value
	// means DefaultMaxConnsPerUser (20).
	MaxConnsPerUser int
	// PingInterval and PingTimeout drive keepalive. Zero values mean 25 s and 20 s.
	// PingTimeout also bounds one write.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// WriteInterval spaces the writes to a connection that receives more
	// than a few events per interval: frames queued meanwhile go out
	// together in the next write (see Conn.writeLoop). Zero value means
	// DefaultWriteInterval (40 ms); a negative value writes as soon as
	// anything is queued.
	WriteInterval time.Duration
	// AllowedOrigins are extra Origin host patterns allowed besides the
	// server's own host (path.Match patterns, as in coder/websocket).
	AllowedOrigins []string
	// NodeID prefixes connection ids. Zero value means "n".
	NodeID string
}

func (c Config) withDefaults() Config {
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.QueueAge == 0 {
		c.QueueAge = DefaultQueueAge
	}
	if c.QueueBudget == 0 {
		c.QueueBudget = DefaultQueueBudget
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = 64 << 10
	}
	if c.OpsPerSecond == 0 {
		c.OpsPerSecond = 50
	}
	if c.OpsBurst == 0 {
		c.OpsBurst = 100
	}
	if c.MaxRejected == 0 {
		c.MaxRejected = 200
	}
	if c.MaxConnsPerUser == 0 {
		c.MaxConnsPerUser = DefaultMaxConnsPerUser
	}
	if c.PingInterval == 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.WriteInterval == 0 {
		c.WriteInterval = DefaultWriteInterval
	}
	if c.NodeID == "" {
		c.NodeID = "n"
	}
	return c
}

// Close codes (docs/protocol.md).
const (
	CloseGoingAway    = 1001
	CloseUnsupported  = 1003
	ClosePolicy       = 1008
	CloseTooBig       = 1009
	CloseSessionEnded = hub.CloseSessionEnded
	CloseSlowConsumer = 4008
)

// OpHandler handles an operation the ws package does not know itself (call
// signaling registers its ops here). It returns the reply's fields.
type OpHandler func(ctx context.Context, c *Conn, raw []byte) (any, error)

// Service is what the realtime server needs of the application layer
// (*service.Service): the operations (ops.go), what a new connection
// subscribes to (Serve) and who may see whose presence.
type Service interface {
	SendMessage(ctx context.Context, userID int64, o service.Outgoing) (parley.Message, bool, error)
	React(ctx context.Context, userID, conversationID, seq int64, emoji string, on bool) (parley.Message, bool, error)
	Receipt(ctx context.Context, userID, conversationID, delivered, read int64) (parley.Member, error)
	Typing(ctx context.Context, userID, conversationID int64, active bool, connID string) error
	Edit(ctx context.Context, userID, conversationID, seq int64, text string) (parley.Message, error)
	Delete(ctx context.Context, userID, conversationID, seq int64) (parley.Message, error)
	Sync(ctx context.Context, userID int64, cursors map[int64]service.Cursor, emit func(service.SyncResult) error) error

	// UserHeads lists the conversations a new connection subscribes to,
	// with where each stands (the node delivers what follows: hub/track.go).
	UserHeads(ctx context.Context, userID int64) ([]parley.ConvHead, error)
	// Contacts lists the people who see userID's presence (and whose
	// presence userID sees).
	Contacts(ctx context.Context, userID int64) ([]int64, error)
	// LastSeen returns when each of ids was last seen (never-seen users
	// are left out).
	LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error)
	// SessionExpiry returns when a session expires now; ENOTFOUND once it
	// has ended.
	SessionExpiry(ctx context.Context, userID, sessionID int64) (time.Time, error)
}

// Presence is what the server needs of the presence tracker.
type Presence interface {
	Connect(userID int64)
	Disconnect(userID int64)
	OnlineUsers(ids []int64) map[int64]bool
}

// Server accepts WebSocket connections and runs them.
type Server struct {
	svc      Service
	reg      *hub.Registry
	cfg      Config
	log      *slog.Logger
	presence Presence

	ops    map[string]OpHandler
	opsMu  sync.RWMutex
	nextID atomic.Int64
	// mu guards closing, so no connection is added to wg once Shutdown
	// has started waiting.
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup // connections, and shed while it runs

	queued   atomic.Int64 // what all queues hold, as the budget counts it
	shedding atomic.Bool  // shed runs
	drops    [nDropReasons]atomic.Int64

	// OnDisconnect, if set, is called after a connection ends (calls use it
	// to end a call whose device went away).
	OnDisconnect func(c *Conn)
}

// NewServer returns a Server. presence may be nil (no presence events).
func NewServer(svc Service, reg *hub.Registry, presence Presence, cfg Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, reg: reg, cfg: cfg.withDefaults(), log: log, presence: presence, ops: make(map[string]OpHandler)}
	reg.SetMaxConnsPerUser(s.cfg.MaxConnsPerUser)
	return s
}

// Handle registers a handler for an extra operation.
func (s *Server) Handle(op string, h OpHandler) {
	s.opsMu.Lock()
	defer s.opsMu.Unlock()
	s.ops[op] = h
}

func (s *Server) handler(op string) OpHandler {
	s.opsMu.RLock()
	defer s.opsMu.RUnlock()
	return s.ops[op]
}

// Serve upgrades an authenticated request and starts the connection, which
// runs on its own goroutine until it ends (Shutdown waits for it). The
// caller has checked the session; ws checks Origin and the per-user
// connection limit. An error means nothing was written and no upgrade
// happened: the caller answers it (unavailable when the database does not
// answer in time, or the node is shutting down).
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, user parley.User, sess parley.Session) error {
	if s.draining() {
		return errShuttingDown
	}
	if s.reg.Full(user.ID) { // refused early; Register decides (see start)
		return hub.ErrTooManyConns
	}
	// What the connection subscribes to is read before the upgrade, so
	// that a database that does not answer gets the client a plain 503.
	heads, err := s.svc.UserHeads(r.Context(), user.ID)
	if err != nil {
		return err
	}
	hj := &hijacker{ResponseWriter: w}
	wsc, err := websocket.Accept(hj, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		// Accept has written the error (403 for a foreign Origin).
		return nil
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		wsc.Close(CloseGoingAway, "server shutting down")
		return nil
	}
	s.wg.Add(1)
	s.mu.Unlock()
	wsc.SetReadLimit(s.cfg.MaxFrame)
	c := newConn(s, wsc, user, sess, s.cfg.NodeID+"-"+strconv.FormatInt(s.nextID.Add(1), 10))
	c.sock = hj.sock
	if !c.start(r.Context(), heads) {
		s.wg.Done()
		return nil
	}
	// The connection reads on a fresh goroutine: this one's stack has grown
	// with the handshake (session lookup, store queries), and an idle
	// connection should not keep it. It is freed when the handler returns.
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
	return nil
}

// errShuttingDown answers upgrades once Drain or Shutdown has started: the
// client tries again, and its balancer sends it to another node.
var errShuttingDown = parley.Errorf(parley.EUNAVAILABLE, "This server is shutting down; connect again.")

// Drain stops accepting new connections (upgrades answer 503 unavailable)
// and leaves the open ones alone; Shutdown then closes them.
func (s *Server) Drain() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
}

func (s *Server) draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown closes every connection with 1001 so clients reconnect elsewhere,
// and waits for them to end (or ctx).
func (s *Server) Shutdown(ctx context.Context) {
	s.Drain()
	s.reg.CloseAll(CloseGoingAway, "server shutting down")
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Resync closes every connection with 1001 so that each client reconnects
// and syncs. The node calls it when its bus has reconnected: events
// published while the bus was away may never have reached this node's
// connections, which are otherwise up to date only through live events.
// It does not block. New connections are accepted as usual (and sync).
func (s *Server) Resync() {
	s.reg.CloseAll(CloseGoingAway, "events were interrupted: reconnect and sync")
}

// PresenceChanged delivers a presence event to the local connections of
// the user's contacts. Every node does this for its own connections.
func (s *Server) PresenceChanged(ctx context.Context, userID int64, online bool, lastSeen time.Time) {
	var ls *time.Time
	if !online {
		t := lastSeen.UTC().Truncate(time.Microsecond)
		ls = &t
	}
	contacts, err := s.svc.Contacts(ctx, userID)
	if err != nil {
		s.log.Warn("presence contacts", "err", err)
		return
	}
	local := s.reg.Local(contacts)
	if len(local) == 0 {
		return
	}
	d := &hub.Delivery{Frame: service.PresenceJSON(userID, online, ls)}
	for _, uid := range local {
		s.reg.DeliverToUser(uid, d)
	}
}
