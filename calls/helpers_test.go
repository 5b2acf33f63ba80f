package calls_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/app"
	"parley/calls"
	"parley/servertest"
)

const waitTimeout = 15 * time.Second

// start runs a node with calls enabled.
func start(t *testing.T, cfg calls.Config) *servertest.Server {
	t.Helper()
	return servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Calls = &cfg }))
}

// user is an account on a test server.
type user struct {
	id    int64
	name  string
	token string
}

func signup(t *testing.T, srv *servertest.Server, name string) user {
	t.Helper()
	a := servertest.SignUp(t, srv.URL, name)
	return user{id: a.UserID, name: name, token: a.Token}
}

// direct opens the direct conversation of a and b and returns its id.
func direct(t *testing.T, srv *servertest.Server, a, b user) int64 {
	t.Helper()
	out := servertest.Must(t, srv.URL, a.token, "POST", "/api/v1/direct", map[string]any{"username": b.name}, 201).Body
	return int64(out["conversation"].(map[string]any)["id"].(float64))
}

// callMessages returns the conversation's call system messages.
func callMessages(t *testing.T, srv *servertest.Server, u user, conv int64) []map[string]any {
	t.Helper()
	out := servertest.Must(t, srv.URL, u.token, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", conv), nil, 200).Body
	var list []map[string]any
	for _, m := range out["messages"].([]any) {
		m := m.(map[string]any)
		if sys, ok := m["system"].(map[string]any); ok && sys["event"] == "call" {
			list = append(list, sys)
		}
	}
	return list
}

// expectHistory checks that the conversation's call messages are exactly
// names, in order. Callers first await the message events, so nothing is
// still on its way.
func expectHistory(t *testing.T, srv *servertest.Server, u user, conv int64, names ...string) []map[string]any {
	t.Helper()
	list := callMessages(t, srv, u, conv)
	var got []string
	for _, m := range list {
		got = append(got, m["name"].(string))
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("call messages in history: %v, want %v", got, names)
	}
	return list
}

// peer is one device: a raw WebSocket that records every frame it gets.
type peer struct {
	t    *testing.T
	name string
	c    *websocket.Conn
	n    atomic.Int64
	id   string // conn_id from hello

	mu     sync.Mutex
	frames []map[string]any
	used   []bool // frames already returned by await
	signal chan struct{}
	err    error
}

func dial(t *testing.T, srv *servertest.Server, u user) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token}}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	p := &peer{t: t, name: u.name, c: c, signal: make(chan struct{}, 1)}
	t.Cleanup(func() { c.CloseNow() })
	go p.readLoop()
	hello := p.await("hello", isEv("hello"))
	p.id = hello["conn_id"].(string)
	return p
}

func (p *peer) readLoop() {
	for {
		_, data, err := p.c.Read(context.Background())
		p.mu.Lock()
		if err != nil {
			p.err = err
		} else {
			for _, line := range bytes.Split(data, []byte("\n")) {
				var m map[string]any
				if json.Unmarshal(line, &m) == nil {
					p.frames = append(p.frames, m)
					p.used = append(p.used, false)
				}
			}
		}
		p.mu.Unlock()
		select {
		case p.signal <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// send writes an operation and returns its id.
func (p *peer) send(op string, fields map[string]any) string {
	id := fmt.Sprint(p.n.Add(1))
	m := map[string]any{"op": op, "id": id}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	if err := p.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		p.t.Errorf("%s: write: %v", p.name, err)
	}
	return id
}

// await returns the first frame not yet awaited that matches. Frames
// that do not match stay for later awaits, whatever order events come in.
func (p *peer) await(what string, match func(map[string]any) bool) map[string]any {
	p.t.Helper()
	m, _ := p.awaitSkipping(what, match)
	return m
}

// awaitSkipping is await that also returns the frames not yet awaited that
// came before the match.
func (p *peer) awaitSkipping(what string, match func(map[string]any) bool) (map[string]any, []map[string]any) {
	p.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		var skipped []map[string]any
		for i := range p.frames {
			if p.used[i] {
				continue
			}
			if match(p.frames[i]) {
				p.used[i] = true
				m := p.frames[i]
				p.mu.Unlock()
				return m, skipped
			}
			skipped = append(skipped, p.frames[i])
		}
		err := p.err
		p.mu.Unlock()
		if err != nil {
			p.t.Fatalf("%s: connection ended while waiting for %s: %v", p.name, what, err)
		}
		select {
		case <-p.signal:
		case <-deadline.C:
			p.t.Fatalf("%s: timed out waiting for %s", p.name, what)
		}
	}
}

// take returns, without waiting, the frames not yet awaited that match,
// and marks them awaited.
func (p *peer) take(match func(map[string]any) bool) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for i, f := range p.frames {
		if !p.used[i] && match(f) {
			p.used[i] = true
			out = append(out, f)
		}
	}
	return out
}

// do sends an operation and waits for its reply.
func (p *peer) do(op string, fields map[string]any) map[string]any {
	p.t.Helper()
	id := p.send(op, fields)
	return p.await("reply to "+op, isReply(id))
}

// ok sends an operation and fails the test unless it succeeds.
func (p *peer) ok(op string, fields map[string]any) map[string]any {
	p.t.Helper()
	r := p.do(op, fields)
	if r["ok"] != true {
		p.t.Fatalf("%s: %s %v: %v", p.name, op, fields, r["error"])
	}
	return r
}

// fails sends an operation and checks that it fails with code.
func (p *peer) fails(code, op string, fields map[string]any) {
	p.t.Helper()
	r := p.do(op, fields)
	if r["ok"] != false {
		p.t.Fatalf("%s: %s %v succeeded, want %s", p.name, op, fields, code)
	}
	if got := r["error"].(map[string]any)["code"]; got != code {
		p.t.Fatalf("%s: %s %v: error %v, want %s", p.name, op, fields, r["error"], code)
	}
}

// invite places a call and returns its id.
func (p *peer) invite(conv int64, media, sdp string) string {
	p.t.Helper()
	r := p.ok("call_invite", map[string]any{"conversation_id": conv, "media": media, "sdp": sdp})
	return r["call_id"].(string)
}

func isEv(name string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["ev"] == name }
}

func isReply(id string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["re"] == id }
}

// callEv matches a call event of a type for a call.
func callEv(typ, callID string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return m["ev"] == "call" && m["type"] == typ && (callID == "" || m["call_id"] == callID)
	}
}

// callMessage matches the message event of a call system message.
func callMessage(name string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		if m["ev"] != "message" {
			return false
		}
		sys, _ := m["message"].(map[string]any)["system"].(map[string]any)
		return sys != nil && sys["event"] == "call" && sys["name"] == name
	}
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// clock is a settable clock for call durations.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
