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
//
// The writer runs only while there is something to write: enqueueing to a
// connection without a writer starts one (under mu), and the writer ends
// when it finds the queue empty (under mu), so at most one runs and an idle
// connection costs no writer goroutine. Keepalive pings, the session's
// expiry and the deadline of a close come from timers, armed under mu while
// the connection is open (afterLocked, rearmLocked); timers counts their
// callbacks until each has run or been stopped, and serve waits for them, so
// nothing of a connection runs once Shutdown has waited for it.
type Conn struct {
	// Fan-out reads and writes these for every event, under mu: they are
	// kept together, at the start, to share a cache line or two.
	mu         sync.Mutex
	closed     bool
	syncing    bool
	writing    bool // a writer goroutine runs
	holding    bool // an operation runs whose reply will follow: no writer yet
	queueBytes int
	queue      [][]byte
	// queueSince is when the oldest frame of queue was queued (zero when
	// empty); flightSince the same for the batch being written, and
	// flightBytes its size. See "Slow consumers" in queue.go.
	queueSince  int64 // hub.Mono
	flightSince int64
	writeStart  int64 // when the write in progress started (0: none)
	flightBytes int
	// queueCost and flightCost are what queue and the batch in flight
	// count against the node's budget (see Conn.cost).
	queueCost  int64
	flightCost int64
	lastBatch  int             // frames in the last batch written: sizes a new queue
	synced     map[int64]int64 // per conversation, the highest seq a sync wrote
	srv        *Server

	// Also guarded by mu.
	closeCode int
	closeMsg  string
	held      []*hub.Delivery
	heldBytes int
	heldCost  int64
	drained   chan struct{}
	done      chan struct{}
	writers   sync.WaitGroup // the writer, while it runs

	ws   *websocket.Conn
	sock *socketWriter // under ws; nil if the upgrade did not go through hijacker
	id   string
	user parley.User
	sess parley.Session

	limiter  *rate.Limiter
	rejected int

	ctx    context.Context // the connection's: ends when it does
	cancel context.CancelFunc
	pinger *time.Timer    // keepalive; under mu
	expiry *time.Timer    // the session's expiry (see checkSession); under mu
	kill   *time.Timer    // drops the TCP connection if a close takes too long; under mu
	timers sync.WaitGroup // armed timers and running callbacks of the three

	// Owned by the running writer (handed from one to the next under mu).
	spare    [][]byte    // the last batch, emptied: the next queue
	credit   float64     // writes that may go out at once (see writeWait)
	last     time.Time   // when credit was counted
	hold     *time.Timer // waits for credit
	watchdog *time.Timer // bounds a write
}

func newConn(s *Server, wsc *websocket.Conn, u parley.User, sess parley.Session, id string) *Conn {
	return &Conn{srv: s, ws: wsc, id: id, user: u, sess: sess,
		limiter: rate.NewLimiter(rate.Limit(s.cfg.OpsPerSecond), s.cfg.OpsBurst),
		drained: make(chan struct{}, 1), done: make(chan struct{})}
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
		// Held until the sync is written: bounded by bytes only, as the
		// client is not behind, the server holds them.
		cost := c.cost(d.Frame, d.Shared)
		if c.queueBytes+c.flightBytes+c.heldBytes+len(d.Frame) > c.srv.cfg.QueueBytes {
			c.dropLocked(dropQueueBytes, len(d.Frame), hub.Mono())
			return
		}
		c.held = append(c.held, d)
		c.heldBytes += len(d.Frame)
		c.heldCost += cost
		c.srv.charge(cost)
		return
	}
	c.deliverLocked(d, d.At)
}

func (c *Conn) deliverLocked(d *hub.Delivery, at int64) {
	if d.Seq > 0 && d.Seq <= c.synced[d.ConversationID] {
		return // a sync already wrote it
	}
	c.enqueueLocked(d.Frame, d.Shared, at)
}

// enqueueLocked appends a frame to the outbound queue at time at (hub.Mono;
// 0: now), closing the connection (4008) when the client is too far behind
// (see queue.go). shared is how many connections of this node were handed
// the same frame (0 or 1: this one only).
func (c *Conn) enqueueLocked(frame []byte, shared int, at int64) {
	if c.closed {
		return
	}
	if at == 0 {
		at = hub.Mono()
	}
	if reason := c.overLocked(len(frame), at); reason != dropNone {
		c.dropLocked(reason, len(frame), at)
		return
	}
	if len(c.queue) == 0 {
		c.queueSince = at
		if cap(c.queue) == 0 {
			// Sized for what the last write took: under fan-out a queue
			// grown by appending from nothing each interval cost more
			// (growing, collecting) than the rest of queueing.
			c.queue = make([][]byte, 0, min(max(c.lastBatch+c.lastBatch/4, 4), maxQueueHint))
		}
	}
	cost := c.cost(frame, shared)
	c.queue = append(c.queue, frame)
	c.queueBytes += len(frame)
	c.queueCost += cost
	c.srv.charge(cost)
	if !c.holding {
		c.startWriterLocked()
	}
}

// holdWrites keeps what is queued from now on unwritten until
// releaseWrites: an operation that announces a message (send, edit,
// delete) queues its own event on this connection just before its reply,
// and both go out in one write. Other events wait as long as the
// operation runs (its commit).
func (c *Conn) holdWrites() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

// releaseWrites ends holdWrites and starts the writer if anything waits.
func (c *Conn) releaseWrites() {
	c.mu.Lock()
	c.holding = false
	if len(c.queue) > 0 && !c.closed {
		c.startWriterLocked()
	}
	c.mu.Unlock()
}

// startWriterLocked starts the writer unless it runs.
func (c *Conn) startWriterLocked() {
	if c.writing {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// send queues a frame produced for this connection alone (a reply).
func (c *Conn) send(frame []byte) {
	c.mu.Lock()
	c.enqueueLocked(frame, 1, 0)
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
	c.srv.charge(-(c.queueCost + c.heldCost))
	c.queue, c.held = nil, nil
	c.queueBytes, c.queueCost, c.heldBytes, c.heldCost = 0, 0, 0, 0
	close(c.done)
	c.startWriterLocked() // it sends the close frame
	// A writer stuck on a peer that stopped reading cannot send the close
	// frame; drop the TCP connection if the close has not finished by then.
	c.timers.Add(1)
	c.kill = time.AfterFunc(3*time.Second, func() {
		defer c.timers.Done()
		if c.ws != nil { // nil only in tests of the queue alone
			c.ws.CloseNow()
		}
	})
}

// afterLocked runs f on a timer goroutine after d, counted in c.timers,
// unless the connection has closed (then it returns nil). f must not hold
// mu while it re-arms its timer with rearmLocked.
func (c *Conn) afterLocked(d time.Duration, f func()) *time.Timer {
	if c.closed {
		return nil
	}
	c.timers.Add(1)
	return time.AfterFunc(d, func() {
		defer c.timers.Done()
		f()
	})
}

// rearmLocked sets t (made by afterLocked) to fire again after d, unless
// the connection has closed.
func (c *Conn) rearmLocked(t *time.Timer, d time.Duration) {
	if c.closed || t == nil {
		return
	}
	c.timers.Add(1)
	if t.Reset(d) {
		c.timers.Done() // it was armed: that arming's count stands for this one
	}
}

// stopTimers stops the connection's timers once it has closed (so nothing
// re-arms them) and waits for callbacks that are running.
func (c *Conn) stopTimers() {
	c.mu.Lock()
	for _, t := range []*time.Timer{c.pinger, c.expiry, c.kill} {
		if t != nil && t.Stop() {
			c.timers.Done()
		}
	}
	c.mu.Unlock()
	c.timers.Wait()
}

// start registers the connection (a member of the conversations of heads,
// read before) and queues the hello. It reports false, having closed the
// socket, if the connection cannot be served.
func (c *Conn) start(parent context.Context, heads []parley.ConvHead) bool {
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(parent))
	s := c.srv
	ids := make([]int64, len(heads))
	for i, h := range heads {
		ids[i] = h.ID
	}
	if _, err := s.reg.Register(c, ids); errors.Is(err, hub.ErrTooManyConns) {
		// Another connection of the user's took the last place since
		// Serve looked.
		c.cancel()
		c.ws.Close(ClosePolicy, "too many connections")
		return false
	} else if err != nil {
		s.reg.Unregister(c)
		c.cancel()
		c.ws.Close(websocket.StatusInternalError, "try again")
		return false
	}
	// Heads read before the registration, and so before the client's sync:
	// what this node delivers from here on (hub/track.go).
	s.reg.Baseline(heads)
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing { // Shutdown's CloseAll may have missed this one
		c.CloseWith(CloseGoingAway, "server shutting down")
	}
	if s.presence != nil {
		s.presence.Connect(c.user.ID)
	}
	c.mu.Lock() // the callbacks take mu: they find the timers assigned
	c.pinger = c.afterLocked(s.cfg.PingInterval, c.keepalive)
	c.expiry = c.afterLocked(time.Until(c.sess.ExpiresAt), c.checkSession)
	c.mu.Unlock()
	c.send(encode(helloFrame{Ev: "hello", User: c.user, SessionID: c.sess.ID, ConnID: c.id, Limits: limitsOf(s.cfg)}))
	return true
}

// serve reads operations until the connection ends, then cleans up.
func (c *Conn) serve() {
	defer c.cancel()
	s := c.srv
	c.readLoop(c.ctx)

	c.mu.Lock()
	c.closeLocked(int(websocket.StatusNormalClosure), "")
	c.mu.Unlock()
	c.cancel() // ends a ping or a session check in flight
	// Once closed, nothing starts a writer: this waits for the last one.
	c.writers.Wait()
	c.stopTimers()
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
		// The read gets no context: this ctx ends only after the loop does
		// (serve), and a closing connection ends the read by closing the
		// socket. coder/websocket would register a callback on a context
		// that can end, twice per frame.
		typ, data, err := c.ws.Read(context.Background())
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
			// Binary frames are refused outright: answering them would let
			// a client make the server work past the operation limit.
			c.CloseWith(CloseUnsupported, "frames must be text")
			return
		}
		if !c.limiter.Allow() {
			c.rejected++
			if c.rejected >= c.srv.cfg.MaxRejected {
				c.CloseWith(ClosePolicy, "rate limit exceeded")
				return
			}
			c.send(errorReply(requestID(data), &parley.Error{Code: parley.ERATELIMITED,
				Message: "Too many operations; slow down.", RetryAfter: c.retryAfter()}))
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
// (joined by '\n') and so per system call, until the queue is empty; then
// it ends (the next enqueue starts a new one). It sends the close frame when
// the connection is closed.
//
// A connection that receives faster than one write per WriteInterval is
// written once per interval (see writeWait): frames that arrive meanwhile
// go out together. Under fan-out load this turns many small writes into one
// (fewer system calls here, fewer reads for the client) for at most
// WriteInterval of added latency; a connection that receives less often is
// written at once.
//
// A write that does not finish within QueueAge (a peer that stopped
// reading: its socket buffers are full) drops the connection as a slow
// consumer (see queue.go). The deadline is one timer per connection, reset
// for each write, not a context per write.
func (c *Conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		if c.closed {
			code, reason := c.closeCode, c.closeMsg
			c.mu.Unlock()
			c.closeSocket(code, reason)
			return
		}
		if len(c.queue) == 0 {
			c.writing = false
			if cap(c.spare) > 64 || cap(c.queue) > 64 {
				// Don't keep a burst's queue on an idle connection.
				c.spare, c.queue = nil, nil
			}
			c.mu.Unlock()
			return
		}
		if wait := c.writeWait(); wait > 0 {
			c.mu.Unlock()
			c.pause(wait)
			continue
		}
		c.credit--
		batch := c.queue
		c.lastBatch = len(batch)
		c.flightSince, c.flightBytes, c.flightCost = c.queueSince, c.queueBytes, c.queueCost
		c.writeStart = hub.Mono()
		c.queue, c.queueBytes, c.queueCost, c.queueSince = c.spare[:0], 0, 0, 0
		c.mu.Unlock()

		err := c.write(batch)
		clear(batch)
		c.spare = batch[:0]
		c.mu.Lock()
		c.srv.charge(-c.flightCost)
		c.flightSince, c.flightBytes, c.flightCost, c.writeStart = 0, 0, 0, 0
		c.mu.Unlock()
		if err != nil {
			c.CloseWith(int(websocket.StatusGoingAway), "")
			c.ws.CloseNow()
			return
		}
		select {
		case c.drained <- struct{}{}:
		default:
		}
	}
}

// maxQueueHint bounds the capacity a new queue starts with.
const maxQueueHint = 4096

// writeBurst is how many writes may follow each other at once before
// writes are spaced by WriteInterval.
const writeBurst = 4

// writeWait says how long the writer must wait before its next write. Each
// WriteInterval earns one write, and up to writeBurst are kept (a token
// bucket): replies and occasional events go out at once, a connection
// flooded with events is written once per interval.
func (c *Conn) writeWait() time.Duration {
	iv := c.srv.cfg.WriteInterval
	if iv <= 0 {
		c.credit = 1
		return 0
	}
	now := time.Now()
	c.credit = min(writeBurst, c.credit+float64(now.Sub(c.last))/float64(iv))
	c.last = now
	if wait := time.Duration((1 - c.credit) * float64(iv)); wait > 50*time.Microsecond {
		return wait
	}
	return 0
}

// pause waits d, or until the connection closes.
func (c *Conn) pause(d time.Duration) {
	if c.hold == nil {
		c.hold = time.NewTimer(d)
	} else {
		c.hold.Reset(d)
	}
	select {
	case <-c.hold.C:
	case <-c.done:
	}
}

// write sends a batch of frames as one WebSocket message, joined by '\n'.
func (c *Conn) write(batch [][]byte) error {
	if c.watchdog == nil {
		c.watchdog = time.AfterFunc(c.srv.cfg.QueueAge, c.writeStalled)
	} else {
		c.watchdog.Reset(c.srv.cfg.QueueAge)
	}
	defer c.watchdog.Stop()
	if c.sock != nil {
		return c.sock.writeText(batch)
	}
	msg := batch[0]
	if len(batch) > 1 {
		bp := joined(batch, 0)
		defer putJoined(bp)
		msg = *bp
	}
	// No deadline in the context: coder/websocket would arm a timer per
	// write for it. The watchdog bounds the write instead.
	return c.ws.Write(context.Background(), websocket.MessageText, msg)
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

// checkSession runs, on the timer's goroutine, when the connection's
// session expires as far as the connection knows. Use elsewhere may have
// slid the expiry on, so the store has the last word: the timer is set
// again to the new expiry, or the connection closes with 4001 (session
// ended). Revocation closes connections at once through the bus instead.
func (c *Conn) checkSession() {
	select {
	case <-c.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	exp, err := c.srv.svc.SessionExpiry(ctx, c.user.ID, c.sess.ID)
	switch {
	case parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && !time.Now().Before(exp):
		c.CloseWith(CloseSessionEnded, "session expired")
	case err != nil:
		c.mu.Lock()
		c.rearmLocked(c.expiry, sessionRecheck) // the store did not answer: ask again
		c.mu.Unlock()
	default:
		c.mu.Lock()
		c.rearmLocked(c.expiry, time.Until(exp))
		c.mu.Unlock()
	}
}

// sessionRecheck is when an expiry check the store could not answer is
// tried again.
const sessionRecheck = 30 * time.Second

// keepalive pings the peer every PingInterval, on the timer's goroutine.
func (c *Conn) keepalive() {
	select {
	case <-c.done:
		return
	default:
	}
	c.ping(c.ctx)
	c.mu.Lock()
	c.rearmLocked(c.pinger, c.srv.cfg.PingInterval)
	c.mu.Unlock()
}

func (c *Conn) ping(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, c.srv.cfg.PingTimeout)
	defer cancel()
	if err := c.ws.Ping(pctx); err != nil {
		c.mu.Lock()
		if ctx.Err() == nil { // not a connection that ended meanwhile
			c.dropLocked(dropNoPong, 0, hub.Mono())
		}
		c.mu.Unlock()
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

// rawID is requestID for the id of a request already decoded (no second
// pass over the whole frame).
func rawID(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		if s := raw[1 : len(raw)-1]; plain(s) {
			return string(s)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || c >= '0' && c <= '9':
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return ""
}

// plain reports whether a JSON string's contents need no unescaping.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// reply is an operation's answer when it failed; okReply writes the others.
type reply struct {
	Re    string            `json:"re"`
	OK    bool              `json:"ok"`
	Error *parley.ErrorBody `json:"error,omitempty"`
}

// retryAfter is how long until the limiter allows one more operation.
func (c *Conn) retryAfter() time.Duration {
	r := c.limiter.Reserve()
	d := r.Delay()
	r.Cancel()
	return max(time.Millisecond, d)
}

// errorReply is the failed reply to request id: err as parley.BodyOf shows
// it, the same body REST answers with.
func errorReply(id string, err error) []byte {
	b := parley.BodyOf(err)
	return encode(reply{Re: id, OK: false, Error: &b})
}

// okReply merges fields (a struct or map) into {"re":id,"ok":true}.
func okReply(id string, fields any) []byte {
	b, raw := fields.(rawFields)
	if !raw && fields != nil {
		b = encode(fields)
	}
	out := make([]byte, 0, 32+len(id)+len(b))
	out = parley.AppendJSONString(append(out, `{"re":`...), id)
	out = append(out, `,"ok":true`...)
	if len(b) <= 2 || b[0] != '{' { // none, {} or not an object
		return append(out, '}')
	}
	return append(append(out, ','), b[1:]...)
}

// rawFields are a reply's fields already encoded as a JSON object.
type rawFields []byte

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
	QueueBytes   int     `json:"queue_bytes"`
	QueueAgeMS   int64   `json:"queue_age_ms"`
	MaxText      int     `json:"max_text"`
	TypingTTLMS  int64   `json:"typing_ttl_ms"`
}

func limitsOf(c Config) limits {
	return limits{MaxFrame: c.MaxFrame, OpsPerSecond: c.OpsPerSecond, OpsBurst: c.OpsBurst,
		QueueBytes: c.QueueBytes, QueueAgeMS: c.QueueAge.Milliseconds(), MaxText: parley.MessageTextMax,
		TypingTTLMS: service.TypingTTL.Milliseconds()}
}
