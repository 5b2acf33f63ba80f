package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/servertest"
)

// fakeServer is a scripted stand-in for a Parley server: one conversation
// (id 1) whose history it serves over REST, and WebSocket connections whose
// operations a test answers.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	history []parley.Message
	conns   []*fakeConn
	// onOp answers an operation; nil: the default answers (sync sends the
	// messages after the cursor, at most syncPage of them).
	onOp     func(fc *fakeConn, op fakeOp) bool
	syncPage int
	sends    map[string]int // client_msg_id -> times seen
}

type fakeOp struct {
	Op             string            `json:"op"`
	ID             string            `json:"id"`
	ConversationID int64             `json:"conversation_id"`
	ClientMsgID    string            `json:"client_msg_id"`
	Text           string            `json:"text"`
	Cursors        map[string]Cursor `json:"cursors"`
}

type fakeConn struct {
	ws  *websocket.Conn
	ctx context.Context
}

func (fc *fakeConn) write(objs ...string) {
	fc.ws.Write(fc.ctx, websocket.MessageText, []byte(strings.Join(objs, "\n")))
}

func newFakeServer(t *testing.T, n int) *fakeServer {
	f := &fakeServer{t: t, syncPage: 200, sends: map[string]int{}}
	for i := 1; i <= n; i++ {
		f.history = append(f.history, fakeMsg(int64(i)))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ws", f.serveWS)
	mux.HandleFunc("GET /api/v1/conversations/1/messages", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after_seq"), 10, 64)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		f.mu.Lock()
		var page []parley.Message
		for _, m := range f.history {
			if m.Seq > after && len(page) < limit {
				page = append(page, m)
			}
		}
		more := len(page) > 0 && page[len(page)-1].Seq < f.history[len(f.history)-1].Seq
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"messages": page, "has_more": more})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func fakeMsg(seq int64) parley.Message {
	return parley.Message{ID: seq, ConversationID: 1, Seq: seq, Mod: seq, SenderID: 2, Kind: parley.MessageText,
		Text: "m" + strconv.FormatInt(seq, 10), ClientMsgID: "x" + strconv.FormatInt(seq, 10)}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func messageEvent(m parley.Message) string {
	return jsonOf(map[string]any{"ev": "message", "change": "new", "message": m})
}

// conn returns the i-th connection accepted, waiting for it.
func (f *fakeServer) conn(i int) *fakeConn {
	var fc *fakeConn
	servertest.WaitFor(f.t, 5*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.conns) > i {
			fc = f.conns[i]
		}
		return fc != nil
	}, "connection %d", i)
	return fc
}

func (f *fakeServer) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer tok" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"Log in."}}`))
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	fc := &fakeConn{ws: ws, ctx: r.Context()}
	f.mu.Lock()
	f.conns = append(f.conns, fc)
	f.mu.Unlock()
	fc.write(`{"ev":"hello","user":{"id":1,"username":"me"},"session_id":3,"conn_id":"f-1","limits":{"ops_per_second":1000,"ops_burst":1000}}`)
	for {
		_, data, err := ws.Read(r.Context())
		if err != nil {
			return
		}
		var op fakeOp
		if err := json.Unmarshal(data, &op); err != nil {
			f.t.Errorf("bad frame %s", data)
			return
		}
		f.mu.Lock()
		h := f.onOp
		if op.Op == "send" {
			f.sends[op.ClientMsgID]++
		}
		f.mu.Unlock()
		if h != nil && h(fc, op) {
			continue
		}
		f.answer(fc, op)
	}
}

// answer gives the default answer to an operation.
func (f *fakeServer) answer(fc *fakeConn, op fakeOp) {
	switch op.Op {
	case "sync":
		f.mu.Lock()
		cur, known := op.Cursors["1"]
		last := f.history[len(f.history)-1]
		var msgs []parley.Message
		for _, m := range f.history {
			if m.Seq > cur.Seq && len(msgs) < f.syncPage {
				msgs = append(msgs, m)
			}
		}
		f.mu.Unlock()
		more := len(msgs) > 0 && msgs[len(msgs)-1].Seq < last.Seq
		conv := parley.ConversationSummary{Conversation: parley.Conversation{ID: 1, Kind: "group", LastSeq: last.Seq, LastMod: last.Mod}}
		if !known {
			more = false
		}
		fc.write(jsonOf(map[string]any{"ev": "sync", "conversation": conv, "messages": msgs, "changes": []any{},
			"members": []parley.Member{{ConversationID: 1, UserID: 1, DeliveredSeq: 0}}, "has_more": more}),
			`{"ev":"synced"}`, `{"re":"`+op.ID+`","ok":true,"conversations":1}`)
	case "send":
		f.mu.Lock()
		var m parley.Message
		for _, h := range f.history {
			if h.ClientMsgID == op.ClientMsgID {
				m = h
			}
		}
		dup := m.Seq != 0
		if !dup {
			m = fakeMsg(int64(len(f.history) + 1))
			m.SenderID, m.ClientMsgID, m.Text = 1, op.ClientMsgID, op.Text
			f.history = append(f.history, m)
		}
		f.mu.Unlock()
		fc.write(jsonOf(map[string]any{"re": op.ID, "ok": true, "message": m, "duplicate": dup}))
		if !dup {
			fc.write(messageEvent(m))
		}
	default:
		fc.write(`{"re":"` + op.ID + `","ok":true}`)
	}
}

func (f *fakeServer) client() *Client {
	c := New(f.srv.URL)
	c.SetToken("tok")
	return c
}

// TestFakeGapIsFilledFromHistory: live events that come out of order are
// held, duplicates dropped, and a gap that stays open is filled through
// history.
func TestFakeGapIsFilledFromHistory(t *testing.T) {
	f := newFakeServer(t, 2)
	rec := newRecorder()
	rt := connect(t, f.client(), rec, WithGapTimeout(50*time.Millisecond))
	servertest.WaitFor(t, 5*time.Second, func() bool { return rec.count(1) == 2 }, "sync delivered %d", rec.count(1))
	fc := f.conn(0)

	f.mu.Lock()
	for s := int64(3); s <= 6; s++ {
		f.history = append(f.history, fakeMsg(s))
	}
	f.mu.Unlock()
	// 3 and 5 in one frame, 3 again, 6; 4 only ever comes from history.
	fc.write(messageEvent(fakeMsg(3)), messageEvent(fakeMsg(5)))
	fc.write(messageEvent(fakeMsg(3)), messageEvent(fakeMsg(6)))
	servertest.WaitFor(t, 5*time.Second, func() bool { return rec.count(1) == 6 }, "got %d", rec.count(1))
	rec.check(t)
	if c := rt.Cursors()[1]; c != (Cursor{Seq: 6, Mod: 6}) {
		t.Fatalf("cursor %+v", c)
	}
	// A message event that follows its gap closes it without history.
	fc.write(messageEvent(fakeMsg(8)))
	fc.write(messageEvent(fakeMsg(7)))
	servertest.WaitFor(t, 5*time.Second, func() bool { return rec.count(1) == 8 }, "got %d", rec.count(1))
	rec.check(t)
	rt.Close()
	checkNoGoroutines(t)
}

// TestFakeSyncPagesThroughHistory: a sync that says has_more is completed
// through history before the session counts as connected.
func TestFakeSyncPagesThroughHistory(t *testing.T) {
	f := newFakeServer(t, 950)
	f.syncPage = 200
	rec := newRecorder()
	rt := connect(t, f.client(), rec, WithCursors(map[int64]Cursor{1: {Seq: 10, Mod: 10}}))
	// Connect returned: everything is there already.
	if n := rec.count(1); n != 940 {
		t.Fatalf("got %d messages at connect, want 940", n)
	}
	rec.check(t)
	if c := rt.Cursors()[1]; c.Seq != 950 || c.Mod != 950 {
		t.Fatalf("cursor %+v", c)
	}
	rt.Close()
}

// TestFakeResendAfterLostReply: the connection drops after the server got
// a send but before it answered; the client reconnects, syncs and sends it
// again with the same client_msg_id, and Send returns once.
func TestFakeResendAfterLostReply(t *testing.T) {
	f := newFakeServer(t, 1)
	var dropped bool
	f.onOp = func(fc *fakeConn, op fakeOp) bool {
		if op.Op == "send" && !dropped {
			dropped = true
			f.mu.Lock() // stored, but the reply never leaves
			m := fakeMsg(int64(len(f.history) + 1))
			m.SenderID, m.ClientMsgID, m.Text = 1, op.ClientMsgID, op.Text
			f.history = append(f.history, m)
			f.mu.Unlock()
			fc.ws.CloseNow()
			return true
		}
		return false
	}
	rec := newRecorder()
	rt := connect(t, f.client(), rec)
	ctx := ctxT(t, 10*time.Second)
	m, err := rt.SendWithID(ctx, 1, "only-once", "hello")
	if err != nil || m.Seq != 2 || m.ClientMsgID != "only-once" {
		t.Fatalf("send: %+v %v", m, err)
	}
	f.mu.Lock()
	seen, stored := f.sends["only-once"], len(f.history)
	f.mu.Unlock()
	if seen != 2 || stored != 2 {
		t.Fatalf("server saw the send %d times and stores %d messages", seen, stored)
	}
	servertest.WaitFor(t, 5*time.Second, func() bool { return rec.count(1) == 2 }, "got %d", rec.count(1))
	rec.check(t)
	rt.Close()
}

// TestFakeRateLimitedSendIsRetried: a rate_limited reply makes Send try
// again after a pause instead of failing.
func TestFakeRateLimitedSendIsRetried(t *testing.T) {
	f := newFakeServer(t, 1)
	refused := 0
	f.onOp = func(fc *fakeConn, op fakeOp) bool {
		f.mu.Lock()
		refuse := op.Op == "send" && refused < 3
		if refuse {
			refused++
		}
		f.mu.Unlock()
		if refuse {
			fc.write(`{"re":"` + op.ID + `","ok":false,"error":{"code":"rate_limited","message":"Slow down."}}`)
			return true
		}
		if op.Op == "typing" {
			fc.write(`{"re":"` + op.ID + `","ok":false,"error":{"code":"rate_limited","message":"Slow down."}}`)
			return true
		}
		return false
	}
	rt := connect(t, f.client(), newRecorder(), WithBackoff(time.Millisecond, 20*time.Millisecond))
	ctx := ctxT(t, 10*time.Second)
	if m, err := rt.Send(ctx, 1, "hello"); err != nil || m.Seq != 2 {
		t.Fatalf("send: %+v %v", m, err)
	}
	f.mu.Lock()
	n := refused
	f.mu.Unlock()
	if n != 3 {
		t.Fatalf("refused %d times", n)
	}
	// Operations that are not resent report the error.
	err := rt.Typing(ctx, 1, true)
	var e *Error
	if ErrorCode(err) != parley.ERATELIMITED || !errors.As(err, &e) || e.Status != 0 {
		t.Fatalf("typing: %v", err)
	}
	rt.Close()
}

// TestFakeUnauthorized: a refused handshake is an *Error.
func TestFakeUnauthorized(t *testing.T) {
	f := newFakeServer(t, 1)
	c := New(f.srv.URL)
	c.SetToken("wrong")
	_, err := c.Connect(ctxT(t, 5*time.Second), Handler{})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != parley.EUNAUTHORIZED {
		t.Fatalf("err = %v", err)
	}
	checkNoGoroutines(t)
}
