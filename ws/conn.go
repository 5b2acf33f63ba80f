package ws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"parley"
	"parley/hub"
	"parley/service"
)

// Conn is one client's WebSocket.
//
// Concurrency: the reader goroutine (run) reads and handles operations in
// order; the writer goroutine (writeLoop) is the only one writing data
// frames. Everything else enqueues under mu, which is never held while
// writing to the socket or calling the registry.
type Conn struct {
	srv  *Server
	ws   *websocket.Conn
	id   string
	user parley.User
	sess parley.Session

	limiter  *rate.Limiter
	rejected int

	mu         sync.Mutex
	queue      [][]byte
	queueBytes int
	closed     bool
	closeCode  int
	closeMsg   string
	syncing    bool
	held       []*hub.Delivery
	synced     map[int64]int64 // per conversation, the highest seq a sync wrote
	wake       chan struct{}
	drained    chan struct{}
	done       chan struct{}
}

func newConn(s *Server, wsc *websocket.Conn, u parley.User, sess parley.Session, id string) *Conn {
	return &Conn{srv: s, ws: wsc, id: id, user: u, sess: sess,
		limiter: rate.NewLimiter(rate.Limit(s.cfg.OpsPerSecond), s.cfg.OpsBurst),
		wake:    make(chan struct{}, 1), drained: make(chan struct{}, 1), done: make(chan struct{})}
}

// ID is the connection id, unique in the deployment.
func (c *Conn) ID() string { return c.id }

// UserID is the connected user.
func (c *Conn) UserID() int64 { return c.user.ID }

// User is the connected user as at connect time.
func (c *Conn) User() parley.User { return c.user }

// SessionID is the session the connection authenticated with.
func (c *Conn) SessionID() int64 { return c.sess.ID }

// Deliver queues an event; see hub.Conn.
func (c *Conn) Deliver(d *hub.Delivery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.syncing {
		c.held = append(c.held, d)
		if len(c.held) > c.srv.cfg.QueueFrames {
			c.closeLocked(CloseSlowConsumer, "too many events during sync")
		}
		return
	}
	c.deliverLocked(d)
}

func (c *Conn) deliverLocked(d *hub.Delivery) {
	if d.Seq > 0 && d.Seq <= c.synced[d.ConversationID] {
		return // a sync already wrote it
	}
	c.enqueueLocked(d.Frame)
}

// enqueueLocked appends a frame to the outbound queue, closing the
// connection (4008) when the queue is over its bounds.
func (c *Conn) enqueueLocked(frame []byte) {
	if c.closed {
		return
	}
	if len(c.queue) >= c.srv.cfg.QueueFrames || c.queueBytes+len(frame) > c.srv.cfg.QueueBytes {
		c.closeLocked(CloseSlowConsumer, "too slow: outbound queue full")
		return
	}
	c.queue = append(c.queue, frame)
	c.queueBytes += len(frame)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// send queues a frame produced for this connection alone (a reply).
func (c *Conn) send(frame []byte) {
	c.mu.Lock()
	c.enqueueLocked(frame)
	c.mu.Unlock()
}

// CloseWith closes the connection with a close code; see hub.Conn.
func (c *Conn) CloseWith(code int, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
}

func (c *Conn) closeLocked(code int, reason string) {
	if c.closed {
		return
	}
	c.closed, c.closeCode, c.closeMsg = true, code, reason
	c.queue, c.held = nil, nil
	close(c.done)
	// A writer stuck on a peer that stopped reading cannot send the close
	// frame; drop the TCP connection if the close has not finished by then.
	time.AfterFunc(3*time.Second, func() { c.ws.CloseNow() })
}

// run registers the connection, starts the writer, reads operations until
// the connection ends, then cleans up.
func (c *Conn) run(parent context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	s := c.srv
	ids, err := s.svc.Store().ConversationIDs(ctx, c.user.ID)
	if err != nil {
		c.ws.Close(websocket.StatusInternalError, "try again")
		return
	}
	if _, err := s.reg.Register(c, ids); err != nil {
		s.reg.Unregister(c)
		c.ws.Close(websocket.StatusInternalError, "try again")
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing { // Shutdown's CloseAll may have missed this one
		c.CloseWith(CloseGoingAway, "server shutting down")
	}
	if s.presence != nil {
		s.presence.Connect(c.user.ID)
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(ctx)
	}()
	c.send(encode(helloFrame{Ev: "hello", User: c.user, SessionID: c.sess.ID, ConnID: c.id, Limits: limitsOf(s.cfg)}))

	c.readLoop(ctx)

	c.mu.Lock()
	c.closeLocked(int(websocket.StatusNormalClosure), "")
	c.mu.Unlock()
	<-writerDone
	s.reg.Unregister(c)
	if s.presence != nil {
		s.presence.Disconnect(c.user.ID)
	}
	if s.OnDisconnect != nil {
		s.OnDisconnect(c)
	}
}

func (c *Conn) readLoop(ctx context.Context) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return
			}
			if isTooBig(err) {
				c.CloseWith(CloseTooBig, "frame too large")
			}
			return
		}
		select {
		case <-c.done:
			return
		default:
		}
		if typ != websocket.MessageText {
			c.send(errorReply("", "bad_request", "Frames must be text."))
			continue
		}
		if !c.limiter.Allow() {
			c.rejected++
			if c.rejected >= c.srv.cfg.MaxRejected {
				c.CloseWith(ClosePolicy, "rate limit exceeded")
				return
			}
			c.send(encode(reply{Re: requestID(data), Error: &replyError{Code: parley.ERATELIMITED,
				Message: "Too many operations; slow down.", RetryAfterMS: c.retryAfterMS()}}))
			continue
		}
		c.rejected = 0
		c.handle(ctx, data)
	}
}

func isTooBig(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("read limited"))
}

// writeLoop writes everything queued, many frames per WebSocket message
// (joined by '\n') and so per system call, and keeps the peer alive with
// pings.
//
// It writes at most once per WriteInterval: the first frame after a quiet
// spell goes out at once, frames that follow it closely wait for the rest
// of the interval and go out together. Under fan-out load this turns many
// small writes into one (fewer system calls here, fewer reads for the
// client) for at most WriteInterval of added latency.
//
// A write that does not finish within PingTimeout (a peer that stopped
// reading) drops the connection. The deadline is one timer per connection,
// reset for each write, not a context per write.
func (c *Conn) writeLoop(ctx context.Context) {
	s := c.srv
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	watchdog := time.AfterFunc(time.Hour, func() { c.ws.CloseNow() })
	watchdog.Stop()
	defer watchdog.Stop()
	var (
		buf  []byte
		last time.Time   // end of the last write
		hold *time.Timer // waits out the write interval
	)
	for {
		select {
		case <-c.wake:
		case <-c.done:
		case <-ping.C:
			go c.ping(ctx)
			continue
		}
		if wait := s.cfg.WriteInterval - time.Since(last); wait > 0 {
			if hold == nil {
				hold = time.NewTimer(wait)
			} else {
				hold.Reset(wait)
			}
			select {
			case <-hold.C:
			case <-c.done:
			}
		}
		c.mu.Lock()
		batch := c.queue
		c.queue, c.queueBytes = nil, 0
		closed, code, reason := c.closed, c.closeCode, c.closeMsg
		c.mu.Unlock()
		if closed {
			c.closeSocket(code, reason)
			return
		}
		if len(batch) == 0 {
			continue
		}
		var msg []byte
		if len(batch) == 1 {
			msg = batch[0]
		} else {
			buf = buf[:0]
			for i, f := range batch {
				if i > 0 {
					buf = append(buf, '\n')
				}
				buf = append(buf, f...)
			}
			msg = buf
		}
		watchdog.Reset(s.cfg.PingTimeout)
		// No deadline in the context: coder/websocket would arm a timer
		// per write for it. The watchdog bounds the write instead.
		err := c.ws.Write(context.Background(), websocket.MessageText, msg)
		watchdog.Stop()
		last = time.Now()
		if err != nil {
			c.CloseWith(int(websocket.StatusGoingAway), "")
			c.ws.CloseNow()
			return
		}
		select {
		case c.drained <- struct{}{}:
		default:
		}
		if cap(buf) > 256<<10 {
			buf = nil // don't keep a burst's buffer on an idle connection
		}
	}
}

func (c *Conn) closeSocket(code int, reason string) {
	if code == 0 {
		code = int(websocket.StatusNormalClosure)
	}
	done := make(chan struct{})
	go func() {
		c.ws.Close(websocket.StatusCode(code), reason)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		c.ws.CloseNow()
	}
}

func (c *Conn) ping(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, c.srv.cfg.PingTimeout)
	defer cancel()
	if err := c.ws.Ping(pctx); err != nil {
		c.CloseWith(int(websocket.StatusGoingAway), "no pong")
		c.ws.CloseNow()
	}
}

// request is the envelope every operation shares; op-specific fields are
// decoded by the op.
type request struct {
	Op string          `json:"op"`
	ID json.RawMessage `json:"id"`
}

func requestID(data []byte) string {
	var r struct {
		ID any `json:"id"`
	}
	json.Unmarshal(data, &r)
	switch v := r.ID.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

type reply struct {
	Re    string      `json:"re"`
	OK    bool        `json:"ok"`
	Error *replyError `json:"error,omitempty"`
}

type replyError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RetryAfterMS comes with rate_limited: when the next op will be allowed.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// retryAfterMS is how long until the limiter allows one more operation.
func (c *Conn) retryAfterMS() int64 {
	r := c.limiter.Reserve()
	d := r.Delay()
	r.Cancel()
	return max(1, d.Milliseconds())
}

func errorReply(id, code, msg string) []byte {
	return encode(reply{Re: id, OK: false, Error: &replyError{Code: code, Message: msg}})
}

// okReply merges fields (a struct or map) into {"re":id,"ok":true}.
func okReply(id string, fields any) []byte {
	head := `{"re":` + strconv.Quote(id) + `,"ok":true`
	if fields == nil {
		return []byte(head + "}")
	}
	b := encode(fields)
	if len(b) <= 2 || b[0] != '{' { // {} or not an object
		return []byte(head + "}")
	}
	return append([]byte(head+","), b[1:]...)
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("encode frame: " + err.Error())
	}
	return b
}

type helloFrame struct {
	Ev        string      `json:"ev"`
	User      parley.User `json:"user"`
	SessionID int64       `json:"session_id"`
	ConnID    string      `json:"conn_id"`
	Limits    limits      `json:"limits"`
}

type limits struct {
	MaxFrame     int64   `json:"max_frame"`
	OpsPerSecond float64 `json:"ops_per_second"`
	OpsBurst     int     `json:"ops_burst"`
	QueueFrames  int     `json:"queue_frames"`
	QueueBytes   int     `json:"queue_bytes"`
	MaxText      int     `json:"max_text"`
	TypingTTLMS  int64   `json:"typing_ttl_ms"`
}

func limitsOf(c Config) limits {
	return limits{MaxFrame: c.MaxFrame, OpsPerSecond: c.OpsPerSecond, OpsBurst: c.OpsBurst,
		QueueFrames: c.QueueFrames, QueueBytes: c.QueueBytes, MaxText: parley.MessageTextMax,
		TypingTTLMS: service.TypingTTL.Milliseconds()}
}
