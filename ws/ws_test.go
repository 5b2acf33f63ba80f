package ws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/app"
	"parley/servertest"
)

// peer is a raw WebSocket client for protocol-level tests.
type peer struct {
	t      *testing.T
	c      *websocket.Conn
	token  string
	events chan map[string]any
	done   chan error
	n      int
}

// login signs name up and returns their bearer token.
func login(t *testing.T, srv *servertest.Server, name string) string {
	t.Helper()
	return servertest.SignUp(t, srv.URL, name).Token
}

func dial(t *testing.T, srv *servertest.Server, token string, read bool) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(64 << 20)
	p := &peer{t: t, c: c, token: token, events: make(chan map[string]any, 100000), done: make(chan error, 1)}
	t.Cleanup(func() { c.CloseNow() })
	if read {
		go p.readLoop()
	}
	return p
}

func (p *peer) readLoop() {
	for {
		_, data, err := p.c.Read(context.Background())
		if err != nil {
			p.done <- err
			close(p.events)
			return
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				p.done <- fmt.Errorf("bad frame %q", line)
				close(p.events)
				return
			}
			p.events <- m
		}
	}
}

func (p *peer) request(op string, fields map[string]any) {
	p.n++
	m := map[string]any{"op": op, "id": fmt.Sprint(p.n)}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	if err := p.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		p.t.Fatal(err)
	}
}

// await returns the first frame that matches, failing after 10 s.
func (p *peer) await(what string, match func(m map[string]any) bool) map[string]any {
	p.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-p.events:
			if !ok {
				p.t.Fatalf("connection ended while waiting for %s: %v", what, <-p.done)
			}
			if match(m) {
				return m
			}
		case <-timeout:
			p.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func reply(id string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["re"] == id }
}

func ev(name string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["ev"] == name }
}

func TestNotAuthenticated(t *testing.T) {
	srv := servertest.Start(t)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"
	_, res, err := websocket.Dial(context.Background(), url, nil)
	if err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("dial without a session: %v %v", err, res)
	}
	tok := login(t, srv, "alice")
	_, res, err = websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: http.Header{
		"Cookie": {"parley_session=" + tok}, "Origin": {"https://evil.example"}}})
	if err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("dial from a foreign origin: %v %v", err, res)
	}
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: http.Header{
		"Cookie": {"parley_session=" + tok}, "Origin": {srv.URL}}})
	if err != nil {
		t.Fatalf("dial with cookie from own origin: %v", err)
	}
	c.CloseNow()
}

func TestOpsAndErrors(t *testing.T) {
	srv := servertest.Start(t)
	at, bt, mt := login(t, srv, "alice"), login(t, srv, "bob"), login(t, srv, "mallory")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gcode1"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"]
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "gcode1"}, 201)

	a := dial(t, srv, at, true)
	hello := a.await("hello", ev("hello"))
	if hello["user"].(map[string]any)["username"] != "alice" || hello["conn_id"] == "" {
		t.Fatal(hello)
	}
	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))
	m := dial(t, srv, mt, true)
	m.await("hello", ev("hello"))

	a.request("send", map[string]any{"conversation_id": gid, "client_msg_id": "c1", "text": "hi bob"})
	r := a.await("send reply", reply("1"))
	if r["ok"] != true || r["message"].(map[string]any)["seq"].(float64) != 3 || r["duplicate"] != false {
		t.Fatal(r)
	}
	got := b.await("message", ev("message"))
	if got["message"].(map[string]any)["text"] != "hi bob" || got["change"] != "new" {
		t.Fatal(got)
	}
	a.request("send", map[string]any{"conversation_id": gid, "client_msg_id": "c1", "text": "hi bob"})
	if r := a.await("resend reply", reply("2")); r["duplicate"] != true {
		t.Fatal(r)
	}

	// Receipts reach the sender; typing reaches others.
	b.request("receipt", map[string]any{"conversation_id": gid, "delivered_seq": 3, "read_seq": 3})
	b.await("receipt reply", reply("1"))
	rc := a.await("receipt", func(m map[string]any) bool {
		return m["ev"] == "receipt" && m["user_id"] != hello["user"].(map[string]any)["id"]
	})
	if rc["read_seq"].(float64) != 3 {
		t.Fatal(rc)
	}
	b.request("typing", map[string]any{"conversation_id": gid, "active": true})
	ty := a.await("typing", ev("typing"))
	if ty["active"] != true || ty["expires_in_ms"].(float64) != 5000 {
		t.Fatal(ty)
	}

	// A stranger: not_found, exactly as for a missing conversation.
	for i, op := range []map[string]any{
		{"op": "send", "conversation_id": gid, "client_msg_id": "x", "text": "hi"},
		{"op": "receipt", "conversation_id": gid, "read_seq": 1},
		{"op": "typing", "conversation_id": gid, "active": true},
		{"op": "edit", "conversation_id": gid, "seq": 3, "text": "x"},
		{"op": "delete", "conversation_id": gid, "seq": 3},
	} {
		name := op["op"].(string)
		delete(op, "op")
		m.request(name, op)
		r := m.await(name+" reply", reply(fmt.Sprint(i+1)))
		if r["ok"] != false || r["error"].(map[string]any)["code"] != "not_found" {
			t.Errorf("stranger %s: %v", name, r)
		}
	}
	// Bad requests.
	m.c.Write(context.Background(), websocket.MessageText, []byte(`{not json`))
	if r := m.await("bad json", func(m map[string]any) bool { _, ok := m["re"]; return ok && m["ok"] == false }); r["error"].(map[string]any)["code"] != "bad_request" {
		t.Fatal(r)
	}
	m.request("fly", nil)
	if r := m.await("unknown op", reply("6")); r["error"].(map[string]any)["code"] != "unknown_op" {
		t.Fatal(r)
	}
	m.request("send", map[string]any{"conversation_id": "seven", "client_msg_id": "x", "text": "hi"})
	if r := m.await("wrong type", reply("7")); r["error"].(map[string]any)["code"] != "invalid" {
		t.Fatal(r)
	}
}

// TestErrorsSameAsREST: the same bad input gets the same error (code,
// message and field) from a WebSocket operation as from the REST route.
func TestErrorsSameAsREST(t *testing.T) {
	srv := servertest.Start(t)
	at := login(t, srv, "alice")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"]
	path := fmt.Sprintf("/api/v1/conversations/%v/messages", gid)
	servertest.Must(t, srv.URL, at, "POST", path, map[string]any{"client_msg_id": "used", "text": "first"}, 201)
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))
	for i, c := range []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{"client_msg_id": 5, "text": "hi"}, 400},
		{map[string]any{"client_msg_id": "a", "text": []string{"hi"}}, 400},
		{map[string]any{"client_msg_id": "a", "text": "hi", "admin": true}, 400},
		{map[string]any{"client_msg_id": "a", "text": "   "}, 400},
		{map[string]any{"client_msg_id": "", "text": "x"}, 400},
		{map[string]any{"client_msg_id": "used", "text": "second"}, 409},
		{map[string]any{"client_msg_id": "r", "text": "re", "reply_to": 99}, 400},
		{map[string]any{"client_msg_id": "r", "text": "re", "reply_to": -1}, 400},
	} {
		rest := servertest.Must(t, srv.URL, at, "POST", path, c.body, c.status).Body["error"]
		fields := map[string]any{"conversation_id": gid}
		for k, v := range c.body {
			fields[k] = v
		}
		a.request("send", fields)
		r := a.await("send reply", reply(fmt.Sprint(i+1)))
		if r["ok"] != false || fmt.Sprint(r["error"]) != fmt.Sprint(rest) {
			t.Errorf("%v: WebSocket %v, REST %v", c.body, r["error"], rest)
		}
	}
}

// TestSyncHoldsLiveEvents: a sync returns what was missed, then `synced`,
// and messages racing with it arrive once.
func TestSync(t *testing.T) {
	srv := servertest.Start(t)
	at, bt := login(t, srv, "alice"), login(t, srv, "bob")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gcode1"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"].(float64)
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "gcode1"}, 201)
	for i := 0; i < 30; i++ {
		servertest.Must(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", gid), map[string]any{"client_msg_id": fmt.Sprint(i), "text": fmt.Sprint("m", i)}, 201)
	}
	servertest.Must(t, srv.URL, at, "PATCH", fmt.Sprintf("/api/v1/conversations/%v/messages/5", gid), map[string]any{"text": "edited"}, 200)

	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))
	// Bob holds up to seq 10 with mod 10; he missed 11..32 and the edit of 5.
	b.request("sync", map[string]any{"cursors": map[string]any{fmt.Sprint(int64(gid)): map[string]any{"seq": 10, "mod": 10}}})
	// Meanwhile alice keeps sending (failures come back on sent).
	sent := make(chan error, 1)
	go func() {
		for i := 30; i < 60; i++ {
			a := servertest.Do(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", gid), map[string]any{"client_msg_id": fmt.Sprint(i), "text": fmt.Sprint("m", i)})
			if a.Status != 201 {
				sent <- fmt.Errorf("send %d: %d %s", i, a.Status, a.Raw)
				return
			}
		}
		sent <- nil
	}()
	s := b.await("sync", ev("sync"))
	msgs := s["messages"].([]any)
	if first := msgs[0].(map[string]any)["seq"].(float64); first != 11 {
		t.Fatalf("sync starts at %v", first)
	}
	ch := s["changes"].([]any)
	if len(ch) != 1 || ch[0].(map[string]any)["text"] != "edited" {
		t.Fatalf("changes %v", ch)
	}
	seen := map[float64]int{}
	for _, m := range msgs {
		seen[m.(map[string]any)["seq"].(float64)]++
	}
	b.await("synced", ev("synced"))
	b.await("sync reply", reply("1"))
	// Everything up to 62 arrives exactly once, from the sync or live.
	last := 0.0
	for _, m := range msgs {
		last = max(last, m.(map[string]any)["seq"].(float64))
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for last < 62 {
		m := b.await("live message", ev("message"))
		seq := m["message"].(map[string]any)["seq"].(float64)
		seen[seq]++
		last = max(last, seq)
	}
	for seq := 11.0; seq <= 62; seq++ {
		if seen[seq] != 1 {
			t.Fatalf("seq %v seen %d times", seq, seen[seq])
		}
	}

	// A device with no cursor gets the latest page.
	b2 := dial(t, srv, bt, true)
	b2.await("hello", ev("hello"))
	b2.request("sync", map[string]any{"cursors": map[string]any{}})
	s = b2.await("sync", ev("sync"))
	if n := len(s["messages"].([]any)); n != 50 || s["has_more"] != true {
		t.Fatalf("fresh device sync: %d messages, has_more %v", n, s["has_more"])
	}
}

// TestSlowConsumer: a connection that stops reading is closed (4008) and
// the others keep receiving promptly.
func TestSlowConsumer(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		// Small enough for 16 MB to overflow it, large enough for a
		// reader that keeps up (writes are batched every few ms).
		c.Realtime.QueueBytes = 1 << 20
	}))
	at, bt, ct := login(t, srv, "alice"), login(t, srv, "bob"), login(t, srv, "carol")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gcode1"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"].(float64)
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "gcode1"}, 201)
	servertest.Must(t, srv.URL, ct, "POST", "/api/v1/groups/join", map[string]any{"code": "gcode1"}, 201)
	slow := dial(t, srv, bt, false) // never reads
	fast := dial(t, srv, ct, true)
	fast.await("hello", ev("hello"))
	text := strings.Repeat("x", 4000)
	// 16 MB: more than loopback's socket buffers can hide.
	const senders, each = 8, 500
	var wg sync.WaitGroup
	failed := make(chan error, senders) // a sender's failure, reported to the test's goroutine
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				a := servertest.Do(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", gid), map[string]any{"client_msg_id": fmt.Sprint(w, "-", i), "text": text})
				if a.Status != 201 {
					failed <- fmt.Errorf("sender %d, message %d: %d %s", w, i, a.Status, a.Raw)
					return
				}
			}
		}()
	}
	// The fast reader keeps up the whole time.
	for got := 0; got < senders*each; {
		select {
		case err := <-failed:
			t.Fatal(err)
		default:
		}
		m := fast.await("message", ev("message"))
		if m["message"].(map[string]any)["kind"] == "text" {
			got++
		}
	}
	wg.Wait()
	close(failed)
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
	// The slow one was closed: with 4008 when the close frame got through,
	// else by dropping the TCP connection its full buffers left.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := slow.c.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("slow consumer still connected")
			}
			if code := websocket.CloseStatus(err); code != 4008 && code != -1 {
				t.Fatalf("slow consumer closed with %d", code)
			}
			break
		}
	}
	if n := srv.Node.Registry.Count(slow.userID(t, srv)); n != 0 {
		t.Fatalf("slow consumer still registered (%d)", n)
	}
}

func (p *peer) userID(t *testing.T, srv *servertest.Server) int64 {
	me := servertest.Must(t, srv.URL, p.token, "GET", "/api/v1/me", nil, 200).Body
	return int64(me["user"].(map[string]any)["id"].(float64))
}

// TestRevokedSessionClosed: logout closes the session's sockets (4001).
func TestRevokedSessionClosed(t *testing.T) {
	srv := servertest.Start(t)
	at := login(t, srv, "alice")
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))
	servertest.Must(t, srv.URL, at, "POST", "/api/v1/auth/logout", nil, 204)
	select {
	case err := <-a.done:
		if websocket.CloseStatus(err) != 4001 {
			t.Fatalf("closed with %v, want 4001", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket still open 5 s after logout")
	}
}

// TestRemovedMemberStopsReceiving: removal stops the events at once.
func TestRemovedMemberStopsReceiving(t *testing.T) {
	srv := servertest.Start(t)
	at, bt := login(t, srv, "alice"), login(t, srv, "bob")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gcode1"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"].(float64)
	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "gcode1"}, 201)
	b.await("added", func(m map[string]any) bool { return m["ev"] == "conversation" && m["change"] == "added" })
	servertest.Must(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", gid), map[string]any{"client_msg_id": "1", "text": "before"}, 201)
	b.await("message before", func(m map[string]any) bool {
		return m["ev"] == "message" && m["message"].(map[string]any)["text"] == "before"
	})
	members := servertest.Must(t, srv.URL, at, "GET", fmt.Sprintf("/api/v1/conversations/%v/members", gid), nil, 200).Body["members"].([]any)
	bid := members[1].(map[string]any)["user_id"]
	servertest.Must(t, srv.URL, at, "DELETE", fmt.Sprintf("/api/v1/conversations/%v/members/%v", gid, bid), nil, 204)
	b.await("removed", func(m map[string]any) bool { return m["ev"] == "conversation" && m["change"] == "removed" })
	servertest.Must(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", gid), map[string]any{"client_msg_id": "2", "text": "after"}, 201)
	b.request("ping", nil)
	for {
		m := b.await("ping reply", func(map[string]any) bool { return true })
		if m["ev"] == "message" {
			t.Fatalf("removed member got %v", m)
		}
		if m["re"] == "1" {
			break
		}
	}
}

// TestNoGoroutinesLeft: after every client closes, the server's connection
// goroutines are gone.
func TestNoGoroutinesLeft(t *testing.T) {
	srv := servertest.Start(t)
	at := login(t, srv, "alice")
	before := runtime.NumGoroutine()
	var peers []*peer
	for i := 0; i < 10; i++ {
		p := dial(t, srv, at, true)
		p.await("hello", ev("hello"))
		peers = append(peers, p)
	}
	for _, p := range peers {
		p.c.Close(websocket.StatusNormalClosure, "")
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before || srv.Node.Registry.Conns() != 0 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnectionLimit: past MaxConnsPerUser a connection is refused with
// 429 before the upgrade; connections racing for the last places never
// exceed the limit (those that lose are closed with 1008 right after the
// upgrade).
func TestConnectionLimit(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Realtime.MaxConnsPerUser = 3 }))
	at := login(t, srv, "alice")
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"
	opts := &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + at}}}
	var first []*peer
	for range 3 {
		p := dial(t, srv, at, true)
		p.await("hello", ev("hello"))
		first = append(first, p)
	}
	_, res, err := websocket.Dial(t.Context(), url, opts)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "5" {
		t.Fatalf("4th connection: %v %+v", err, res)
	}
	for _, p := range first {
		p.c.Close(websocket.StatusNormalClosure, "")
	}
	uid := first[0].userID(t, srv)
	servertest.WaitFor(t, 10*time.Second, func() bool { return srv.Node.Registry.Count(uid) == 0 }, "connections to be gone")

	// 12 at once: each gets its hello (then stays) or is refused.
	const n = 12
	results := make(chan string, n)
	var conns sync.Map
	for i := range n {
		go func() {
			c, _, err := websocket.Dial(t.Context(), url, opts)
			if err != nil {
				results <- "refused"
				return
			}
			conns.Store(i, c)
			_, data, err := c.Read(t.Context())
			switch {
			case err == nil && bytes.Contains(data, []byte(`"ev":"hello"`)):
				results <- "hello"
			case websocket.CloseStatus(err) == websocket.StatusPolicyViolation:
				results <- "closed 1008"
			default:
				results <- fmt.Sprintf("unexpected: %q %v", data, err)
			}
		}()
	}
	got := map[string]int{}
	for range n {
		got[<-results]++
	}
	t.Cleanup(func() {
		conns.Range(func(_, c any) bool { c.(*websocket.Conn).CloseNow(); return true })
	})
	if got["hello"] != 3 || got["hello"]+got["refused"]+got["closed 1008"] != n {
		t.Fatalf("12 racing connections: %v; want 3 served, the rest refused", got)
	}
}

// TestShutdownWaitsForTimers: once Shutdown returns, nothing of a
// connection runs: not a keepalive ping, a session check or a close's
// deadline (they run on timers, which the connection owns and waits for).
func TestShutdownWaitsForTimers(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Realtime.PingInterval = time.Millisecond // keepalive runs all the time
	}))
	at := login(t, srv, "alice")
	for range 8 {
		p := dial(t, srv, at, true)
		p.await("hello", ev("hello"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Node.Shutdown(ctx)
	if ctx.Err() != nil {
		t.Fatal("Shutdown did not finish")
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		// A goroutine that has signalled its end may still be exiting
		// (its top frame is runtime.goexit*): it runs nothing more.
		lines := strings.SplitN(g, "\n", 3)
		exiting := len(lines) > 1 && strings.HasPrefix(lines[1], "runtime.goexit")
		if strings.Contains(g, "parley/ws.(*Conn)") && !exiting {
			t.Fatalf("a connection's goroutine runs after Shutdown:\n%s", g)
		}
	}
}

// TestDeadPeerDropped: a peer that stops answering pings is dropped after
// PingInterval + PingTimeout (25 s + 20 s by default; short here).
func TestDeadPeerDropped(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Realtime.PingInterval = 100 * time.Millisecond
		c.Realtime.PingTimeout = 200 * time.Millisecond
	}))
	at := login(t, srv, "alice")
	dead := dial(t, srv, at, false) // never reads, so never answers a ping
	uid := dead.userID(t, srv)
	servertest.WaitFor(t, 10*time.Second, func() bool { return srv.Node.Registry.Count(uid) == 1 }, "the connection to register")
	servertest.WaitFor(t, 10*time.Second, func() bool { return srv.Node.Registry.Count(uid) == 0 },
		"a peer that answers no ping to be dropped")
	if n := srv.Node.Realtime.SlowConsumerDrops("no_pong"); n != 1 {
		t.Fatalf("%d drops counted for no_pong, want 1", n)
	}
}

// TestSendReplyAndEventTogether: a send's own message event and its reply
// reach the sending connection in one WebSocket message (one write), the
// event first, and carry the same message.
func TestSendReplyAndEventTogether(t *testing.T) {
	srv := servertest.Start(t)
	at := login(t, srv, "alice")
	login(t, srv, "bob")
	d := servertest.Must(t, srv.URL, at, "POST", "/api/v1/direct", map[string]any{"username": "bob"}, 201).Body["conversation"].(map[string]any)
	a := dial(t, srv, at, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	read := func() [][]byte {
		t.Helper()
		_, data, err := a.c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Split(data, []byte("\n"))
	}
	for hello := false; !hello; {
		for _, line := range read() {
			hello = hello || bytes.HasPrefix(line, []byte(`{"ev":"hello"`))
		}
	}
	a.request("send", map[string]any{"conversation_id": d["id"], "client_msg_id": "m1", "text": "hi <b>&</b>"})
	lines := read()
	if len(lines) != 2 {
		t.Fatalf("the send's frames came in %d part(s) of one message: %q", len(lines), lines)
	}
	var event, rep struct {
		Ev, Re    string
		Message   map[string]any
		Duplicate *bool
	}
	if err := json.Unmarshal(lines[0], &event); err != nil || event.Ev != "message" {
		t.Fatalf("first frame %s, want the message event", lines[0])
	}
	if err := json.Unmarshal(lines[1], &rep); err != nil || rep.Re != "1" || rep.Duplicate == nil || *rep.Duplicate {
		t.Fatalf("second frame %s, want the reply (duplicate false)", lines[1])
	}
	// In a direct chat the event leaves out the sender's names; the reply
	// has them.
	if _, ok := event.Message["sender"]; ok || rep.Message["sender"] == nil {
		t.Fatalf("event message %v, reply message %v: want the sender in the reply only", event.Message, rep.Message)
	}
	delete(rep.Message, "sender")
	if fmt.Sprint(event.Message) != fmt.Sprint(rep.Message) || rep.Message["text"] != "hi <b>&</b>" {
		t.Fatalf("event message %v, reply message %v", event.Message, rep.Message)
	}
}

// TestFrameSizes: sends and other operations of many sizes, written back
// to back without waiting, each get the reply to their own id with their
// own text (a long frame after a short one and the other way round, sends
// the fast decoder reads and sends it leaves to the generic one); a frame
// past MaxFrame closes the connection with 1009 (documented in
// docs/protocol.md).
func TestFrameSizes(t *testing.T) {
	srv := servertest.Start(t)
	at := login(t, srv, "alice")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gcode1"}, 201).Body["conversation"].(map[string]any)
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))

	texts := map[string]string{}
	for i := range 40 {
		text := strings.Repeat(string(rune('a'+i%26)), []int{5, 3000, 40, 1500}[i%4])
		if i%5 == 4 { // a send the generic decoder reads (escapes)
			text = "line\n" + text
		}
		a.request("send", map[string]any{"conversation_id": g["id"], "client_msg_id": fmt.Sprintf("m-%d", i), "text": text})
		texts[fmt.Sprint(a.n)] = text
		a.request("typing", map[string]any{"conversation_id": g["id"], "active": i%2 == 0})
	}
	replies := map[string]map[string]any{}
	for len(replies) < len(texts) {
		r := a.await("the replies to the sends", func(m map[string]any) bool { return texts[fmt.Sprint(m["re"])] != "" })
		replies[fmt.Sprint(r["re"])] = r
	}
	for id, text := range texts {
		r := replies[id]
		m, _ := r["message"].(map[string]any)
		if r["ok"] != true || m == nil || m["text"] != text {
			t.Fatalf("send %s: reply %v, want the text of %d bytes sent", id, r, len(text))
		}
	}

	big := fmt.Sprintf(`{"op":"send","id":"big","conversation_id":%v,"client_msg_id":"big","text":"%s"}`,
		g["id"], strings.Repeat("x", 64<<10))
	if err := a.c.Write(context.Background(), websocket.MessageText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	for range a.events { // the connection ends
	}
	var ce websocket.CloseError
	if err := <-a.done; !errors.As(err, &ce) || ce.Code != websocket.StatusMessageTooBig {
		t.Fatalf("a frame past MaxFrame ended the connection with %v, want 1009", err)
	}
}
