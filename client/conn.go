package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"parley"
)

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
			in.Error = &parley.ErrorBody{Code: parley.EINTERNAL, Message: "error reply without error"}
		}
		res.err = toError(in.Error, 0)
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
