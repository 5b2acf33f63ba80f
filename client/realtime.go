package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
// attachments are uploads to attach (Client.Upload).
func (r *Realtime) SendWithID(ctx context.Context, convID int64, clientMsgID, text string, attachments ...int64) (parley.Message, error) {
	f, err := json.Marshal(sendFields{ConversationID: convID, ClientMsgID: clientMsgID, Text: text, Attachments: attachments})
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
