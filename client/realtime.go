package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"parley"
)

// Close codes the client acts on (docs/protocol.md, "Close codes").
const (
	// StatusSessionEnded: the session was logged out or revoked. The
	// client stops for good.
	StatusSessionEnded websocket.StatusCode = 4001
	// StatusTooSlow: the client did not read fast enough. It reconnects
	// and syncs.
	StatusTooSlow websocket.StatusCode = 4008
)

var (
	// ErrClosed is returned by calls on a closed session.
	ErrClosed = errors.New("client: realtime session closed")
	// ErrSessionEnded ends a realtime session whose login session was
	// logged out or revoked (close code 4001, or 401 on reconnecting).
	ErrSessionEnded = errors.New("client: session ended (logged out or revoked)")
	// ErrDisconnected is returned by Request and Typing when the
	// connection is lost before the reply; the operation may or may not
	// have taken effect.
	ErrDisconnected = errors.New("client: connection lost before the reply")
)

// readLimit bounds one incoming frame. A sync event may carry 200 new
// messages and 200 changes of up to 4096 characters each, escaped.
const readLimit = 64 << 20

// config is a realtime session's configuration; see the ConnectOption
// functions for the meaning and defaults.
type config struct {
	cursors      map[int64]Cursor
	autoReceipts time.Duration
	backoff      backoff
	gapTimeout   time.Duration
	keepalive    time.Duration
	opsPerSecond float64
	opsBurst     int
	ratesSet     bool
	writeTimeout time.Duration
	dialTimeout  time.Duration
	syncTimeout  time.Duration
}

// ConnectOption configures a realtime session.
type ConnectOption func(*config)

// WithCursors starts the session from cursors saved from an earlier one
// (see Realtime.Cursors): the first sync then brings only what is new.
// Zero value: no cursors; each conversation starts at its latest page.
func WithCursors(cursors map[int64]Cursor) ConnectOption {
	return func(c *config) { c.cursors = cursors }
}

// WithAutoReceipts makes the session report "delivered" receipts by itself
// for messages from others it has handed to the Handler, at most once per
// conversation per delay (delay <= 0: 150 ms). Zero value: off.
func WithAutoReceipts(delay time.Duration) ConnectOption {
	return func(c *config) {
		if delay <= 0 {
			delay = 150 * time.Millisecond
		}
		c.autoReceipts = delay
	}
}

// WithBackoff sets the reconnect delay: full jitter, growing exponentially
// from min to max. Zero value: 100 ms to 10 s.
func WithBackoff(min, max time.Duration) ConnectOption {
	return func(c *config) { c.backoff = backoff{min: min, max: max} }
}

// WithGapTimeout sets how long a message that arrived before its
// predecessors is held before the gap is filled from history. Zero value:
// 1 s.
func WithGapTimeout(d time.Duration) ConnectOption {
	return func(c *config) { c.gapTimeout = d }
}

// WithKeepalive sets after how long without anything from the server the
// client pings it (and drops the connection if no pong comes). d < 0
// disables it. Zero value: 45 s (the server pings every 25 s).
func WithKeepalive(d time.Duration) ConnectOption {
	return func(c *config) { c.keepalive = d }
}

// WithOpRate limits the operations the client sends per connection, so
// that it stays under the server's limit instead of having operations
// refused. perSecond <= 0 turns the limit off. Zero value: 90% of what the
// server announces, or of the documented 50 per second, burst 100.
func WithOpRate(perSecond float64, burst int) ConnectOption {
	return func(c *config) { c.opsPerSecond, c.opsBurst, c.ratesSet = perSecond, burst, true }
}

// Default protocol limits (docs/protocol.md, "WebSocket limits").
const (
	defaultOpsPerSecond = 50
	defaultOpsBurst     = 100
	opRateMargin        = 0.9
)

// Realtime is a live session over one WebSocket at a time. It is safe for
// concurrent use.
//
// On each connection it syncs first: it sends its cursors, applies what the
// server missed (paging through history when the server says has_more) and
// only then sends operations, resending those whose reply was lost. It
// reconnects with exponential backoff and full jitter whenever the
// connection ends, except when the session was logged out or revoked.
//
// Messages reach Handler.OnMessage in seq order per conversation, each once:
// live events that arrive early are held until the gap before them closes,
// and a gap still open after the gap timeout is filled from history. A
// conversation's starting point is its cursor (WithCursors), else the
// latest page the first sync carries, else (for a conversation the session
// learns about live) the first message it sees.
//
// Per session the client keeps one goroutine (reading, or reconnecting),
// timers for pending work, and per conversation a cursor and any messages
// held back.
type Realtime struct {
	c   *Client
	h   Handler
	cfg config
	log *slog.Logger
	lim *rate.Limiter // nil: no client-side limit

	ctx    context.Context // ends when the session ends
	cancel context.CancelFunc
	done   chan struct{}  // closed when run returns
	wg     sync.WaitGroup // timer callbacks running

	// Lock order: dmu, then mu. Handler functions are called with dmu held
	// and mu not held, so that deliveries from the reader, the gap filler
	// and the state reports keep one order.
	dmu     sync.Mutex
	scratch []delivery // reused under dmu

	mu           sync.Mutex
	closing      bool          // Close was called or the session ended
	cn           *wsConn       // the current connection, nil between connections
	live         bool          // cn has synced; operations may be sent
	liveCh       chan struct{} // closed when the next connection goes live (or the session ends)
	err          error         // why the session ended
	state        State
	convs        map[int64]*convState
	round        uint64 // sync round, for pruning conversations the user left
	nextID       uint64
	user         parley.User
	connID       string
	receiptTimer *time.Timer
}

// wsConn is one WebSocket connection of a session.
type wsConn struct {
	ws       *websocket.Conn
	ctx      context.Context // ends when the connection is given up
	cancel   context.CancelFunc
	lastRead atomic.Int64 // unix nanos of the last frame or ping received

	// Guarded by Realtime.mu.
	calls     map[string]chan result
	syncTimer *time.Timer // closes a connection that does not sync in time
	kaTimer   *time.Timer // keepalive

	// Used by the reader goroutine only.
	syncID string
}

func (cn *wsConn) touch() { cn.lastRead.Store(time.Now().UnixNano()) }

// write sends one frame. A write that fails or times out closes the
// connection (the reader then ends it).
func (cn *wsConn) write(frame []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(cn.ctx, timeout)
	defer cancel()
	return cn.ws.Write(ctx, websocket.MessageText, frame)
}

// result is a reply to a request.
type result struct {
	in  *inbound
	raw json.RawMessage
	err error
}

// Connect opens a realtime session with the client's token. It returns
// once the first connection has synced, or with the error of the first
// handshake (an *Error such as 401 unauthorized), or when ctx ends first.
// After Connect returns, ctx no longer matters; call Close to end the
// session.
func (c *Client) Connect(ctx context.Context, h Handler, opts ...ConnectOption) (*Realtime, error) {
	cfg := config{
		backoff:      backoff{min: 100 * time.Millisecond, max: 10 * time.Second},
		gapTimeout:   time.Second,
		keepalive:    45 * time.Second,
		opsPerSecond: defaultOpsPerSecond * opRateMargin,
		opsBurst:     defaultOpsBurst * opRateMargin,
		writeTimeout: 10 * time.Second,
		dialTimeout:  15 * time.Second,
		syncTimeout:  60 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.backoff = cfg.backoff.withDefaults()
	if cfg.gapTimeout <= 0 {
		cfg.gapTimeout = time.Second
	}
	if cfg.keepalive == 0 {
		cfg.keepalive = 45 * time.Second
	}
	r := &Realtime{
		c:      c,
		h:      h,
		cfg:    cfg,
		log:    c.log,
		done:   make(chan struct{}),
		liveCh: make(chan struct{}),
		convs:  make(map[int64]*convState, len(cfg.cursors)),
	}
	if cfg.opsPerSecond > 0 {
		r.lim = rate.NewLimiter(rate.Limit(cfg.opsPerSecond), max(cfg.opsBurst, 1))
	}
	for id, cur := range cfg.cursors {
		cs := &convState{}
		cs.base(cur.Seq, cur.Mod)
		r.convs[id] = cs
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())

	cn, err := r.dial(ctx)
	if err != nil {
		r.cancel()
		return nil, err
	}
	go r.run(cn)
	if _, err := r.waitLive(ctx); err != nil {
		r.Close()
		if errors.Is(err, ErrClosed) {
			err = r.Err()
		}
		return nil, err
	}
	return r, nil
}

// Close ends the session: it closes the connection (code 1000), fails
// operations still waiting with ErrClosed and waits for the session's
// goroutines to end. It must not be called from a Handler function.
func (r *Realtime) Close() error {
	r.mu.Lock()
	first := !r.closing
	r.closing = true
	cn := r.cn
	r.mu.Unlock()
	if first && cn != nil {
		_ = cn.ws.Close(websocket.StatusNormalClosure, "")
	}
	r.cancel()
	<-r.done
	r.wg.Wait()
	return nil
}

// Done is closed when the session has ended (see Err).
func (r *Realtime) Done() <-chan struct{} { return r.done }

// Err returns why the session ended: nil while it runs, ErrClosed after
// Close, ErrSessionEnded after a logout, or another terminal error.
func (r *Realtime) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// State returns the session's state.
func (r *Realtime) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// User returns the user the server greeted the last connection with.
func (r *Realtime) User() parley.User {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.user
}

// ConnID returns the server's id of the last connection.
func (r *Realtime) ConnID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connID
}

// Cursors returns, per conversation, how far the session has delivered
// messages and changes. Pass them to WithCursors to resume later.
func (r *Realtime) Cursors() map[int64]Cursor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cursorsLocked()
}

func (r *Realtime) cursorsLocked() map[int64]Cursor {
	m := make(map[int64]Cursor, len(r.convs))
	for id, cs := range r.convs {
		if cs.based {
			m[id] = cs.cursor()
		}
	}
	return m
}

// NewClientMsgID returns a fresh random client_msg_id.
func NewClientMsgID() string { return "c-" + rand.Text() }

// Send sends a text message with a fresh client_msg_id and returns it as
// stored, once the server has acknowledged it. If the connection is lost
// first, the message is sent again with the same client_msg_id after the
// next sync, so it is stored once; Send keeps waiting until then or until
// ctx ends.
func (r *Realtime) Send(ctx context.Context, convID int64, text string) (parley.Message, error) {
	return r.SendWithID(ctx, convID, NewClientMsgID(), text)
}

// SendWithID is Send with the caller's client_msg_id. Sending an id again
// returns the message first stored with it.
func (r *Realtime) SendWithID(ctx context.Context, convID int64, clientMsgID, text string) (parley.Message, error) {
	f, err := json.Marshal(sendFields{ConversationID: convID, ClientMsgID: clientMsgID, Text: text})
	if err != nil {
		return parley.Message{}, err
	}
	in, _, err := r.call(ctx, opSend, f, true)
	if err != nil {
		return parley.Message{}, err
	}
	if in.Message == nil {
		return parley.Message{}, errors.New("client: send reply without message")
	}
	return *in.Message, nil
}

// Receipt moves the caller's delivered and read marks in a conversation
// forward (0 leaves one as it is) and returns the marks.
func (r *Realtime) Receipt(ctx context.Context, convID, deliveredSeq, readSeq int64) (Marks, error) {
	f, _ := json.Marshal(receiptFields{ConversationID: convID, DeliveredSeq: deliveredSeq, ReadSeq: readSeq})
	in, _, err := r.call(ctx, opReceipt, f, true)
	if err != nil {
		return Marks{}, err
	}
	r.mu.Lock()
	if cs := r.convs[convID]; cs != nil {
		cs.reported = max(cs.reported, in.DeliveredSeq)
	}
	r.mu.Unlock()
	return Marks{DeliveredSeq: in.DeliveredSeq, ReadSeq: in.ReadSeq}, nil
}

// Typing tells the other members the caller is typing (or stopped). Send
// it again within the server's expiry (5 s) to keep the indicator on.
func (r *Realtime) Typing(ctx context.Context, convID int64, active bool) error {
	f, _ := json.Marshal(typingFields{ConversationID: convID, Active: active})
	_, _, err := r.call(ctx, opTyping, f, false)
	return err
}

// Edit replaces the text of one of the caller's messages.
func (r *Realtime) Edit(ctx context.Context, convID, seq int64, text string) (parley.Message, error) {
	f, _ := json.Marshal(editFields{ConversationID: convID, Seq: seq, Text: text})
	return r.messageCall(ctx, opEdit, f)
}

// Delete turns a message into a tombstone.
func (r *Realtime) Delete(ctx context.Context, convID, seq int64) (parley.Message, error) {
	f, _ := json.Marshal(editFields{ConversationID: convID, Seq: seq})
	return r.messageCall(ctx, opDelete, f)
}

func (r *Realtime) messageCall(ctx context.Context, op string, f []byte) (parley.Message, error) {
	in, _, err := r.call(ctx, op, f, true)
	if err != nil {
		return parley.Message{}, err
	}
	if in.Message == nil {
		return parley.Message{}, fmt.Errorf("client: %s reply without message", op)
	}
	return *in.Message, nil
}

// Ping asks the server for an empty reply.
func (r *Realtime) Ping(ctx context.Context) error {
	_, _, err := r.call(ctx, opPing, nil, false)
	return err
}

// Request sends any operation with fields (nil, or anything that encodes
// as a JSON object without "op" and "id" keys) and returns the whole reply
// object. An error reply is an *Error. It waits for the session to be
// connected, sends once and returns ErrDisconnected if the connection is
// lost before the reply.
func (r *Realtime) Request(ctx context.Context, op string, fields any) (json.RawMessage, error) {
	f, err := marshalFields(fields)
	if err != nil {
		return nil, err
	}
	if f != nil {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(f, &keys); err != nil {
			return nil, err
		}
		if _, ok := keys["op"]; ok {
			return nil, errors.New(`client: request fields must not hold "op"`)
		}
		if _, ok := keys["id"]; ok {
			return nil, errors.New(`client: request fields must not hold "id"`)
		}
	}
	_, raw, err := r.call(ctx, op, f, false)
	return raw, err
}

// call sends an operation and waits for its reply. With resend, the
// operation is sent again on the next connection when the connection is
// lost before the reply, and rate_limited and unavailable answers are
// retried after a pause: the operation must be idempotent.
func (r *Realtime) call(ctx context.Context, op string, fields []byte, resend bool) (*inbound, json.RawMessage, error) {
	for retry := 0; ; {
		cn, err := r.waitLive(ctx)
		if err != nil {
			return nil, nil, err
		}
		if r.lim != nil {
			if err := r.lim.Wait(ctx); err != nil {
				return nil, nil, err
			}
		}
		id, ch, ok := r.register(cn)
		if !ok {
			continue // the connection went away meanwhile
		}
		if err := cn.write(encodeRequest(op, id, fields), r.cfg.writeTimeout); err != nil {
			r.unregister(cn, id)
			if !resend {
				return nil, nil, ErrDisconnected
			}
			// The failed write closed the connection; wait for the
			// reader to notice before looking for the next one.
			select {
			case <-cn.ctx.Done():
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		var res result
		select {
		case res = <-ch:
		case <-ctx.Done():
			r.unregister(cn, id)
			return nil, nil, ctx.Err()
		}
		switch {
		case res.err == nil:
			return res.in, res.raw, nil
		case !resend:
			return nil, nil, res.err
		case errors.Is(res.err, ErrDisconnected):
			continue
		case retryable(res.err):
			d := r.cfg.backoff.delay(retry)
			var e *Error
			if errors.As(res.err, &e) && e.RetryAfter > 0 {
				d = e.RetryAfter
			}
			retry++
			if err := sleepCtx(ctx, r.ctx, d); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, res.err
		}
	}
}

// retryable reports whether an error reply means "try again later".
func retryable(err error) bool {
	switch ErrorCode(err) {
	case parley.ERATELIMITED, parley.EUNAVAILABLE:
		return true
	}
	return false
}

// sleepCtx waits for d, or until ctx or the session ends.
func sleepCtx(ctx, session context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-session.Done():
		return ErrClosed
	}
}

// waitLive waits until the session has a synced connection and returns it.
func (r *Realtime) waitLive(ctx context.Context) (*wsConn, error) {
	for {
		r.mu.Lock()
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return nil, err
		}
		if r.live {
			cn := r.cn
			r.mu.Unlock()
			return cn, nil
		}
		ch := r.liveCh
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// newID returns a fresh request id. r.mu must be held.
func (r *Realtime) newID() string {
	r.nextID++
	return strconv.FormatUint(r.nextID, 36)
}

// register allocates a request id on cn for a reply to wait for; ok is
// false if cn is no longer the live connection.
func (r *Realtime) register(cn *wsConn) (id string, ch chan result, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cn != cn || !r.live {
		return "", nil, false
	}
	id = r.newID()
	ch = make(chan result, 1)
	if cn.calls == nil {
		cn.calls = make(map[string]chan result)
	}
	cn.calls[id] = ch
	return id, ch, true
}

func (r *Realtime) unregister(cn *wsConn, id string) {
	r.mu.Lock()
	delete(cn.calls, id)
	r.mu.Unlock()
}

// afterFunc is time.AfterFunc for the session's timers: the callback is
// skipped once the session is closing, and Close waits for one that runs.
func (r *Realtime) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		r.mu.Lock()
		if r.closing {
			r.mu.Unlock()
			return
		}
		r.wg.Add(1)
		r.mu.Unlock()
		defer r.wg.Done()
		f()
	})
}

// dial opens a WebSocket. A refused handshake gives an *Error.
func (r *Realtime) dial(ctx context.Context) (*wsConn, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.dialTimeout)
	defer cancel()
	cn := &wsConn{}
	h := http.Header{}
	r.c.header(h)
	ws, resp, err := websocket.Dial(ctx, r.c.url("/ws", nil), &websocket.DialOptions{
		HTTPClient: r.c.http,
		HTTPHeader: h,
		OnPingReceived: func(context.Context, []byte) bool {
			cn.touch()
			return true
		},
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, responseError(resp)
		}
		return nil, fmt.Errorf("client: websocket: %w", err)
	}
	ws.SetReadLimit(readLimit)
	cn.ws = ws
	cn.ctx, cn.cancel = context.WithCancel(r.ctx)
	cn.touch()
	return cn, nil
}

// run owns the session's connections: it serves one until it ends, then
// reconnects with backoff, until the session ends.
func (r *Realtime) run(cn *wsConn) {
	defer close(r.done)
	attempt := 0
	var (
		cause error
		wait  time.Duration // the server's Retry-After, if longer than the backoff
	)
	for {
		if cn == nil {
			r.setState(StateReconnecting, cause)
			if sleepCtx(r.ctx, r.ctx, max(r.cfg.backoff.delay(attempt), wait)) != nil {
				r.finish(nil)
				return
			}
			attempt++
			var err error
			if cn, err = r.dial(r.ctx); err != nil {
				if r.isClosing() {
					r.finish(nil)
					return
				}
				var e *Error
				errors.As(err, &e)
				if e != nil && e.Status == http.StatusUnauthorized {
					r.finish(ErrSessionEnded)
					return
				}
				if e != nil && e.Status == http.StatusForbidden {
					r.finish(err) // the Origin is refused: retrying cannot help
					return
				}
				r.log.Debug("realtime: reconnect failed", "attempt", attempt, "err", err)
				wait = 0
				if e != nil {
					wait = min(e.RetryAfter, time.Minute)
				}
				cause = err
				cn = nil
				continue
			}
		}
		live, err := r.serve(cn)
		r.disconnect(cn)
		if r.isClosing() {
			r.finish(nil)
			return
		}
		code := websocket.CloseStatus(err)
		if code == StatusSessionEnded {
			r.finish(ErrSessionEnded)
			return
		}
		r.log.Debug("realtime: connection lost", "code", int(code), "err", err)
		wait = 0
		if live {
			attempt = 0
		}
		if code == websocket.StatusPolicyViolation {
			attempt = max(attempt, 5) // "reconnect later"
		}
		cause = err
		cn = nil
	}
}

func (r *Realtime) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}

// serve runs one connection: it syncs, then reads until the connection
// ends. live reports whether the connection got through its sync.
func (r *Realtime) serve(cn *wsConn) (live bool, err error) {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return false, ErrClosed
	}
	r.cn = cn
	cn.syncTimer = r.afterFunc(r.cfg.syncTimeout, func() { _ = cn.ws.CloseNow() })
	if r.cfg.keepalive > 0 {
		cn.kaTimer = r.afterFunc(r.cfg.keepalive, func() { r.keepalive(cn) })
	}
	r.mu.Unlock()

	if err := r.startSync(cn); err != nil {
		return false, err
	}
	for {
		// No context: one that can end would cost a timer per frame. The
		// read ends when the connection is closed, which Close, disconnect,
		// the sync timer, a failed keepalive or a failed write all do.
		typ, data, err := cn.ws.Read(context.Background())
		if err != nil {
			return r.isLive(cn), err
		}
		cn.touch()
		if typ != websocket.MessageText {
			continue
		}
		var herr error
		splitFrame(data, func(obj []byte) {
			if herr == nil {
				herr = r.handle(cn, obj)
			}
		})
		if herr != nil {
			return r.isLive(cn), herr
		}
	}
}

func (r *Realtime) isLive(cn *wsConn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live && r.cn == cn
}

// disconnect gives up a connection: operations waiting for a reply on it
// learn that it is gone (and resend or fail), and new ones wait for the
// next connection.
func (r *Realtime) disconnect(cn *wsConn) {
	r.mu.Lock()
	calls := cn.calls
	cn.calls = nil
	if r.cn == cn {
		r.cn = nil
		if r.live {
			r.live = false
			r.liveCh = make(chan struct{})
		}
	}
	cn.syncTimer.Stop()
	if cn.kaTimer != nil {
		cn.kaTimer.Stop()
	}
	r.mu.Unlock()
	cn.cancel()
	_ = cn.ws.CloseNow()
	for _, ch := range calls {
		ch <- result{err: ErrDisconnected}
	}
}

// finish ends the session for good with err (nil: closed by Close).
func (r *Realtime) finish(err error) {
	r.mu.Lock()
	r.closing = true
	if r.err == nil {
		if err == nil {
			r.err = ErrClosed
		} else {
			r.err = err
		}
	}
	if !r.live {
		close(r.liveCh)
	}
	r.live = false
	if r.receiptTimer != nil {
		r.receiptTimer.Stop()
		r.receiptTimer = nil
	}
	for _, cs := range r.convs {
		if cs.gapTimer != nil {
			cs.gapTimer.Stop()
			cs.gapTimer = nil
		}
	}
	r.mu.Unlock()
	r.cancel()
	r.setState(StateClosed, err)
}

// setState records the state and reports a change to the Handler.
func (r *Realtime) setState(s State, err error) {
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	changed := r.state != s
	r.state = s
	r.mu.Unlock()
	if changed && r.h.OnState != nil {
		r.h.OnState(s, err)
	}
}

// keepalive pings a server that has been quiet for too long.
func (r *Realtime) keepalive(cn *wsConn) {
	if cn.ctx.Err() != nil {
		return
	}
	quiet := time.Since(time.Unix(0, cn.lastRead.Load()))
	if quiet >= r.cfg.keepalive {
		ctx, cancel := context.WithTimeout(cn.ctx, r.cfg.writeTimeout)
		err := cn.ws.Ping(ctx) // a failed ping closes the connection
		cancel()
		if err != nil {
			return
		}
		quiet = 0
	}
	r.mu.Lock()
	if cn.ctx.Err() == nil {
		cn.kaTimer.Reset(r.cfg.keepalive - quiet)
	}
	r.mu.Unlock()
}

// startSync sends the sync operation with the current cursors. It skips
// the client-side rate limit: the server's limit is per connection, so a
// new connection starts with a full bucket, and a sync must not queue
// behind operations waiting for the connection it opens.
func (r *Realtime) startSync(cn *wsConn) error {
	r.mu.Lock()
	r.round++
	id := r.newID()
	frame := syncRequest(id, r.cursorsLocked())
	r.mu.Unlock()
	cn.syncID = id
	return cn.write(frame, r.cfg.writeTimeout)
}

// handle processes one object from the server. An error ends the
// connection.
func (r *Realtime) handle(cn *wsConn, obj []byte) error {
	in := new(inbound)
	if err := json.Unmarshal(obj, in); err != nil {
		r.log.Warn("realtime: undecodable frame dropped", "err", err, "len", len(obj))
		return nil
	}
	switch {
	case in.Re != "":
		if in.Re == cn.syncID {
			return r.synced(cn, in)
		}
		r.reply(cn, in, obj)
	case in.Ev != "":
		r.event(in, obj)
	}
	return nil
}

// reply hands a reply to the operation waiting for it, if any.
func (r *Realtime) reply(cn *wsConn, in *inbound, raw []byte) {
	r.mu.Lock()
	ch := cn.calls[in.Re]
	delete(cn.calls, in.Re)
	r.mu.Unlock()
	if ch == nil {
		return // abandoned, or sent without waiting (receipts)
	}
	res := result{in: in, raw: raw}
	if !in.OK {
		if in.Error == nil {
			in.Error = &wireError{Code: parley.EINTERNAL, Message: "error reply without error"}
		}
		res.err = in.Error.toError(0)
	}
	ch <- res
}

// event dispatches an event.
func (r *Realtime) event(in *inbound, raw []byte) {
	switch in.Ev {
	case "hello":
		r.hello(in)
	case "message":
		r.onMessage(in)
	case "sync":
		r.onSync(in)
	case "synced":
		r.prune()
	case "receipt":
		if f := r.h.OnReceipt; f != nil {
			r.emit(func() {
				f(Receipt{ConversationID: in.ConversationID, UserID: in.UserID,
					DeliveredSeq: in.DeliveredSeq, ReadSeq: in.ReadSeq})
			})
		}
	case "typing":
		if f := r.h.OnTyping; f != nil {
			r.emit(func() {
				f(Typing{ConversationID: in.ConversationID, UserID: in.UserID, Active: in.Active,
					ExpiresIn: time.Duration(in.ExpiresInMS) * time.Millisecond})
			})
		}
	case "presence":
		if f := r.h.OnPresence; f != nil {
			r.emit(func() { f(Presence{UserID: in.UserID, Online: in.Online, LastSeen: in.LastSeen}) })
		}
	case "member":
		if f := r.h.OnMember; f != nil && in.Member != nil {
			r.emit(func() {
				f(MemberEvent{ConversationID: in.ConversationID, Change: in.Change, Member: *in.Member})
			})
		}
	case "conversation":
		if in.Conversation == nil {
			return
		}
		if in.Change == "removed" {
			r.forget(in.Conversation.ID)
		}
		if f := r.h.OnConversation; f != nil {
			r.emit(func() { f(ConversationEvent{Change: in.Change, Conversation: *in.Conversation}) })
		}
	default:
		if f := r.h.OnEvent; f != nil {
			r.emit(func() { f(in.Ev, raw) })
		}
	}
}

// emit calls a Handler function in turn with the other deliveries.
func (r *Realtime) emit(f func()) {
	r.dmu.Lock()
	defer r.dmu.Unlock()
	f()
}

func (r *Realtime) hello(in *inbound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if in.User != nil {
		r.user = *in.User
	}
	r.connID = in.ConnID
	if l := in.Limits; l != nil && r.lim != nil && !r.cfg.ratesSet && l.OpsPerSecond > 0 {
		r.lim.SetLimit(rate.Limit(l.OpsPerSecond * opRateMargin))
		r.lim.SetBurst(max(int(float64(l.OpsBurst)*opRateMargin), 1))
	}
}

// conv returns the state of a conversation, creating it. r.mu must be
// held.
func (r *Realtime) conv(id int64) *convState {
	cs := r.convs[id]
	if cs == nil {
		cs = &convState{round: r.round}
		r.convs[id] = cs
	}
	return cs
}

// forget drops a conversation the user is no longer a member of.
func (r *Realtime) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cs := r.convs[id]; cs != nil {
		if cs.gapTimer != nil {
			cs.gapTimer.Stop()
		}
		delete(r.convs, id)
	}
}

// prune forgets the conversations the last sync did not mention: the user
// left them while away.
func (r *Realtime) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, cs := range r.convs {
		if cs.round != r.round {
			if cs.gapTimer != nil {
				cs.gapTimer.Stop()
			}
			delete(r.convs, id)
		}
	}
}

// onMessage orders a message event.
func (r *Realtime) onMessage(in *inbound) {
	m := in.Message
	if m == nil {
		return
	}
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	cs := r.conv(m.ConversationID)
	out := r.scratch[:0]
	if in.Change == ChangeNew || in.Change == "" {
		out = cs.add(*m, true, out)
	} else {
		out = cs.change(*m, in.Change, out)
	}
	r.settle(m.ConversationID, cs, out)
	r.mu.Unlock()
	r.deliver(out)
}

// onSync applies a sync event: changes to messages the device holds, new
// messages, the mod cursor and the member's own delivered mark.
func (r *Realtime) onSync(in *inbound) {
	conv := in.Conversation
	if conv == nil {
		return
	}
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	cs := r.conv(conv.ID)
	cs.round = r.round
	known := cs.based
	if !known {
		if len(in.Messages) > 0 {
			cs.base(in.Messages[0].Seq-1, 0)
		} else {
			cs.base(conv.LastSeq, conv.LastMod)
		}
	}
	out := r.scratch[:0]
	for _, m := range in.Changes {
		out = cs.change(m, changeKind(m), out)
	}
	for _, m := range in.Messages {
		out = cs.add(m, false, out)
	}
	if n := len(in.Changes); n >= parley.SyncPageSize {
		// Changes are in mod order and may have been cut short: hold the
		// last one's mod and sync again for the rest.
		cs.raiseMod(in.Changes[n-1].Mod)
		cs.resync = true
	} else {
		cs.raiseMod(conv.LastMod)
	}
	cs.page = known && in.HasMore
	for _, mem := range in.Members {
		if mem.UserID == r.user.ID {
			cs.reported = mem.DeliveredSeq
			cs.receiptDue = cs.seq > cs.reported
		}
	}
	r.settle(conv.ID, cs, out)
	r.mu.Unlock()
	r.deliver(out)
	if f := r.h.OnConversation; f != nil {
		f(ConversationEvent{Change: ChangeSync, Conversation: *conv, Members: in.Members})
	}
}

// synced finishes a sync when its reply comes: it pages what the sync
// left for history, syncs again if changes were cut short, and then lets
// operations flow.
func (r *Realtime) synced(cn *wsConn, in *inbound) error {
	cn.syncID = ""
	if !in.OK {
		if in.Error == nil {
			return errors.New("client: sync failed")
		}
		return in.Error.toError(0)
	}
	again := false
	for {
		r.mu.Lock()
		var id int64
		for cid, cs := range r.convs {
			if cs.resync {
				cs.resync, again = false, true
			}
			if cs.page && id == 0 {
				id = cid
			}
		}
		r.mu.Unlock()
		if id == 0 {
			break
		}
		if err := r.page(cn.ctx, id); err != nil {
			return err
		}
	}
	if again {
		return r.startSync(cn)
	}

	r.mu.Lock()
	if r.cn != cn || r.closing {
		r.mu.Unlock()
		return nil
	}
	cn.syncTimer.Stop()
	r.live = true
	close(r.liveCh)
	r.scheduleReceipts()
	r.mu.Unlock()
	r.setState(StateConnected, nil)
	return nil
}

// page fetches the messages a sync left out (has_more) from history.
func (r *Realtime) page(ctx context.Context, id int64) error {
	for {
		r.mu.Lock()
		cs := r.convs[id]
		if cs == nil || !cs.page {
			r.mu.Unlock()
			return nil
		}
		after := cs.seq
		r.mu.Unlock()
		msgs, more, err := r.c.History(ctx, id, parley.MessageQuery{AfterSeq: after, Limit: parley.PageSizeMax})
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			r.forget(id) // no longer a member
			return nil
		} else if err != nil {
			return err
		}
		done := !more || len(msgs) == 0
		r.merge(id, cs, msgs, func(cs *convState) {
			if done {
				cs.page = false
			}
		})
	}
}

// fillGap fetches from history the messages missing before held ones.
func (r *Realtime) fillGap(id int64) {
	for {
		r.mu.Lock()
		cs := r.convs[id]
		if cs == nil || len(cs.pending) == 0 {
			if cs != nil {
				cs.gapTimer = nil
			}
			r.mu.Unlock()
			return
		}
		after, upto := cs.seq, cs.minPending()
		r.mu.Unlock()
		limit := int(min(upto-after-1, parley.PageSizeMax))
		msgs, _, err := r.c.History(r.ctx, id, parley.MessageQuery{AfterSeq: after, Limit: max(limit, 1)})
		if err != nil {
			r.log.Debug("realtime: filling a gap failed", "conversation", id, "err", err)
			r.mu.Lock()
			if r.convs[id] == cs && !r.closing {
				cs.gapTimer = r.afterFunc(r.cfg.gapTimeout, func() { r.fillGap(id) })
			}
			r.mu.Unlock()
			return
		}
		progress := false
		r.merge(id, cs, msgs, func(cs *convState) { progress = cs.seq > after })
		if !progress {
			// History does not have the gap (it should): try later rather
			// than spin.
			r.mu.Lock()
			if r.convs[id] == cs && !r.closing && len(cs.pending) > 0 {
				cs.gapTimer = r.afterFunc(r.cfg.gapTimeout, func() { r.fillGap(id) })
			}
			r.mu.Unlock()
			return
		}
	}
}

// merge adds messages from history to a conversation's state, if it is
// still the same state, and delivers what follows. then runs under r.mu
// after the merge.
func (r *Realtime) merge(id int64, cs *convState, msgs []parley.Message, then func(*convState)) {
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	if r.convs[id] != cs {
		r.mu.Unlock()
		return
	}
	out := r.scratch[:0]
	for _, m := range msgs {
		out = cs.add(m, false, out)
	}
	then(cs)
	r.settle(id, cs, out)
	r.mu.Unlock()
	r.deliver(out)
}

// settle arms or stops a conversation's gap timer and notes receipts due
// after a change of its state. r.mu must be held.
func (r *Realtime) settle(id int64, cs *convState, out []delivery) {
	switch {
	case len(cs.pending) > 0 && cs.gapTimer == nil && !r.closing:
		cs.gapTimer = r.afterFunc(r.cfg.gapTimeout, func() { r.fillGap(id) })
	case len(cs.pending) == 0 && cs.gapTimer != nil:
		cs.gapTimer.Stop()
		cs.gapTimer = nil
	}
	if r.cfg.autoReceipts > 0 {
		for _, d := range out {
			if d.change == ChangeNew && d.msg.SenderID != r.user.ID {
				cs.receiptDue = true
				break
			}
		}
		if cs.receiptDue && r.live {
			r.scheduleReceipts()
		}
	}
}

// deliver hands messages to the Handler. r.dmu must be held.
func (r *Realtime) deliver(out []delivery) {
	if f := r.h.OnMessage; f != nil {
		for _, d := range out {
			f(d.msg, d.change)
		}
	}
	clear(out)
	r.scratch = out[:0]
}

// scheduleReceipts arms the receipt timer. r.mu must be held.
func (r *Realtime) scheduleReceipts() {
	if r.cfg.autoReceipts > 0 && r.receiptTimer == nil && !r.closing {
		r.receiptTimer = r.afterFunc(r.cfg.autoReceipts, r.flushReceipts)
	}
}

// flushReceipts reports "delivered" for the conversations with messages
// from others delivered since the last report. It does not wait for the
// replies; a report lost with a connection is made again after the next
// sync, which tells the device its marks.
func (r *Realtime) flushReceipts() {
	r.mu.Lock()
	r.receiptTimer = nil
	if !r.live {
		r.mu.Unlock()
		return // the next sync schedules them again
	}
	cn := r.cn
	var todo []receiptFields
	for id, cs := range r.convs {
		if !cs.receiptDue {
			continue
		}
		cs.receiptDue = false
		if cs.seq > cs.reported {
			cs.reported = cs.seq
			todo = append(todo, receiptFields{ConversationID: id, DeliveredSeq: cs.seq})
		}
	}
	r.mu.Unlock()
	for _, f := range todo {
		if r.lim != nil && r.lim.Wait(cn.ctx) != nil {
			return
		}
		b, _ := json.Marshal(f)
		r.mu.Lock()
		id := r.newID()
		r.mu.Unlock()
		if cn.write(encodeRequest(opReceipt, id, b), r.cfg.writeTimeout) != nil {
			return
		}
	}
}
