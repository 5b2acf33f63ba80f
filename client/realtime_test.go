package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/pgtest"
	"parley/servertest"
)

func TestRealtimeTwoUsersTwoDevices(t *testing.T) {
	srv := startServer(t)
	ctx := ctxT(t, 60*time.Second)
	alice, au := newUser(t, srv.URL, "alice")
	bob, bu := newUser(t, srv.URL, "bob")
	alice2, bob2 := device(t, srv.URL, au), device(t, srv.URL, bu)

	recs := map[string]*recorder{"a1": newRecorder(), "a2": newRecorder(), "b1": newRecorder(), "b2": newRecorder()}
	a1 := connect(t, alice, recs["a1"], WithAutoReceipts(50*time.Millisecond))
	a2 := connect(t, alice2, recs["a2"])
	b1 := connect(t, bob, recs["b1"])
	b2 := connect(t, bob2, recs["b2"], WithAutoReceipts(0))
	if a1.User().ID != au.ID || b2.User().ID != bu.ID || a1.ConnID() == "" || a1.State() != StateConnected {
		t.Fatalf("hello: %+v %+v %q %v", a1.User(), b2.User(), a1.ConnID(), a1.State())
	}

	d, _, err := alice.Direct(ctx, bu.Username)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a1.Send(ctx, d.ID, "hi bob")
	if err != nil || m.Seq != 1 || m.SenderID != au.ID {
		t.Fatalf("send: %+v %v", m, err)
	}
	reply, err := b2.Send(ctx, d.ID, "hi alice")
	if err != nil || reply.Seq != 2 {
		t.Fatalf("send: %+v %v", reply, err)
	}
	for name, rec := range recs {
		servertest.WaitFor(t, 5*time.Second, func() bool { return rec.count(d.ID) >= 2 }, "%s got %d messages", name, rec.count(d.ID))
	}

	// Automatic delivered receipts: alice's a1 reports bob's message 2, and
	// bob's b2 reports alice's next message; the other side hears of both.
	// (A sender's own marks move with the send, without a receipt event.)
	hasReceipt := func(rec *recorder, user, delivered, read int64) func() bool {
		return func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, r := range rec.receipts {
				if r.ConversationID == d.ID && r.UserID == user && r.DeliveredSeq >= delivered && r.ReadSeq >= read {
					return true
				}
			}
			return false
		}
	}
	servertest.WaitFor(t, 5*time.Second, hasReceipt(recs["b1"], au.ID, 2, 0), "bob's b1 hears alice's delivered receipt")
	if _, err := a2.Send(ctx, d.ID, "are you there?"); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, 5*time.Second, hasReceipt(recs["a2"], bu.ID, 3, 0), "alice's a2 hears bob's delivered receipt")

	// An explicit read receipt.
	marks, err := b1.Receipt(ctx, d.ID, 0, 3)
	if err != nil || marks.ReadSeq != 3 || marks.DeliveredSeq != 3 {
		t.Fatalf("receipt: %+v %v", marks, err)
	}
	servertest.WaitFor(t, 5*time.Second, hasReceipt(recs["a1"], bu.ID, 3, 3), "alice hears bob's read receipt")
	servertest.WaitFor(t, 5*time.Second, hasReceipt(recs["a2"], bu.ID, 3, 3), "alice's a2 hears bob's read receipt")

	// Typing reaches the other person's devices.
	if err := b1.Typing(ctx, d.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a1", "a2"} {
		rec := recs[name]
		servertest.WaitFor(t, 5*time.Second, func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, x := range rec.typing {
				if x.UserID == bu.ID && x.Active && x.ConversationID == d.ID && x.ExpiresIn > 0 {
					return true
				}
			}
			return false
		}, "%s sees bob typing", name)
	}

	// Edits and deletions reach every device as changes.
	if _, err := a2.Edit(ctx, d.ID, 1, "hi bob!"); err != nil {
		t.Fatal(err)
	}
	if _, err := b1.Delete(ctx, d.ID, 2); err != nil {
		t.Fatal(err)
	}
	_, err = b1.Edit(ctx, d.ID, 1, "not mine")
	if ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("edit another's message: %v", err)
	}
	for name, rec := range recs {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			var edited, deleted bool
			for _, c := range rec.changes {
				edited = edited || c.Seq == 1 && c.Text == "hi bob!"
				deleted = deleted || c.Seq == 2 && c.DeletedAt != nil
			}
			return edited && deleted
		}, "%s sees the edit and the deletion", name)
	}

	// Presence: after its sync, a new connection of alice's learns that her
	// contact bob is online.
	rec3 := newRecorder()
	a3 := connect(t, device(t, srv.URL, au), rec3)
	servertest.WaitFor(t, 5*time.Second, func() bool {
		rec3.mu.Lock()
		defer rec3.mu.Unlock()
		for _, p := range rec3.presence {
			if p.UserID == bu.ID && p.Online {
				return true
			}
		}
		return false
	}, "alice sees bob online")
	a3.Close()

	// Group events: a conversation event and messages from a joined group.
	g, err := alice.CreateGroup(ctx, "Team", "team-code")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bob.JoinGroup(ctx, "team-code"); err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Send(ctx, g.ID, "hello team"); err != nil {
		t.Fatal(err)
	}
	for name, rec := range recs {
		servertest.WaitFor(t, 5*time.Second, func() bool { return rec.has(g.ID, "hello team") }, "%s sees the group message", name)
	}
	// Alice saw the group from its first message on; bob from his joining.
	servertest.WaitFor(t, 5*time.Second, func() bool { return recs["a1"].count(g.ID) == 3 }, "a1 has %d group messages", recs["a1"].count(g.ID))

	// Generic requests and error replies.
	raw, err := a1.Request(ctx, "ping", nil)
	if err != nil || !strings.Contains(string(raw), `"ok":true`) {
		t.Fatalf("ping: %s %v", raw, err)
	}
	_, err = a1.Request(ctx, "no-such-op", map[string]int{"x": 1})
	if ErrorCode(err) != "unknown_op" {
		t.Fatalf("unknown op: %v", err)
	}
	if _, err := a1.Request(ctx, "send", map[string]any{"id": 1}); err == nil {
		t.Fatal("fields with an id were accepted")
	}
	_, err = a1.Send(ctx, 999999, "to nowhere")
	if ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("send to unknown conversation: %v", err)
	}

	cur := a1.Cursors()
	if cur[d.ID].Seq != 3 || cur[d.ID].Mod < 4 || cur[g.ID].Seq != 3 {
		t.Fatalf("cursors %+v", cur)
	}
	for _, rec := range recs {
		rec.check(t)
	}
	for _, rt := range []*Realtime{a1, a2, b1, b2} {
		rt.Close()
		if !errors.Is(rt.Err(), ErrClosed) || rt.State() != StateClosed {
			t.Fatalf("after close: %v %v", rt.Err(), rt.State())
		}
	}
	if _, err := a1.Send(ctx, d.ID, "after close"); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	checkNoGoroutines(t)
}

// TestRealtimeOfflineCatchUp takes a device offline while 500 messages
// arrive in three conversations; back online, it gets each exactly once,
// in order.
func TestRealtimeOfflineCatchUp(t *testing.T) {
	srv := startServer(t)
	ctx := ctxT(t, 120*time.Second)
	alice, au := newUser(t, srv.URL, "alice")
	bob, bu := newUser(t, srv.URL, "bob")

	d, _, err := bob.Direct(ctx, au.Username)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := bob.CreateGroup(ctx, "One", "")
	if err != nil {
		t.Fatal(err)
	}
	g2, err := bob.CreateGroup(ctx, "Two", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []parley.ConversationSummary{g1, g2} {
		if _, _, err := alice.JoinGroup(ctx, g.Code); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := bob.Send(ctx, d.ID, "c-0", "before"); err != nil {
		t.Fatal(err)
	}

	// Alice's phone reaches the server through a network that can fail.
	net := pgtest.NewProxy(t, "tcp", strings.TrimPrefix(srv.URL, "http://"))
	phone := device(t, "http://"+net.Addr(), au)
	rec := newRecorder()
	rt := connect(t, phone, rec, WithAutoReceipts(0))
	before := map[int64]int{}
	for _, id := range []int64{d.ID, g1.ID, g2.ID} {
		servertest.WaitFor(t, 5*time.Second, func() bool { return rec.count(id) > 0 }, "first sync of %d", id)
		before[id] = rec.count(id)
	}

	net.Down()
	servertest.WaitFor(t, 5*time.Second, func() bool { return rt.State() == StateReconnecting }, "state %v", rt.State())

	// 500 messages: 300 in the direct chat, 150 and 50 in the groups.
	plan := map[int64]int{d.ID: 300, g1.ID: 150, g2.ID: 50}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for id, n := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if _, _, err := bob.Send(ctx, id, fmt.Sprintf("m-%d-%d", id, i), fmt.Sprintf("message %d", i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// An edit of a message the phone already holds, made while offline.
	if _, err := bob.Edit(ctx, d.ID, 1, "before, edited"); err != nil {
		t.Fatal(err)
	}

	net.Up(t)
	for id, n := range plan {
		servertest.WaitFor(t, 20*time.Second, func() bool { return rec.count(id) >= before[id]+n },
			"conversation %d: %d of %d", id, rec.count(id), before[id]+n)
	}
	servertest.WaitFor(t, 5*time.Second, func() bool { return rt.State() == StateConnected }, "state %v", rt.State())
	// Nothing more arrives, and everything came once, in order.
	if _, err := rt.Send(ctx, d.ID, "back"); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, 5*time.Second, func() bool { return rec.has(d.ID, "back") }, "own message after reconnecting")
	rec.check(t)
	rec.mu.Lock()
	for id, n := range plan {
		list := rec.news[id]
		if len(list) != before[id]+n+map[bool]int{true: 1}[id == d.ID] {
			t.Errorf("conversation %d: %d messages, want %d", id, len(list), before[id]+n)
		}
		conv, err := bob.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if last := list[len(list)-1].Seq; last != conv.LastSeq {
			t.Errorf("conversation %d: last seq %d, server has %d", id, last, conv.LastSeq)
		}
	}
	var edited int
	for _, c := range rec.changes {
		if c.ConversationID == d.ID && c.Seq == 1 && c.Text == "before, edited" {
			edited++
		}
	}
	rec.mu.Unlock()
	if edited != 1 {
		t.Errorf("the offline edit came %d times", edited)
	}
	cur := rt.Cursors()
	if cur[d.ID].Seq != 302 {
		t.Errorf("cursor %+v", cur[d.ID])
	}

	// Closed and reopened from saved cursors, it gets only what is new.
	rt.Close()
	if _, _, err := bob.Send(ctx, g2.ID, "while closed", "while closed"); err != nil {
		t.Fatal(err)
	}
	rec2 := newRecorder()
	rt2 := connect(t, phone, rec2, WithCursors(cur))
	servertest.WaitFor(t, 5*time.Second, func() bool { return rec2.has(g2.ID, "while closed") }, "message sent while closed")
	if n := rec2.count(g2.ID) + rec2.count(g1.ID) + rec2.count(d.ID); n != 1 {
		t.Errorf("resumed session got %d messages, want 1", n)
	}
	rt2.Close()
	_ = bu
	checkNoGoroutines(t)
}

// TestRealtimeSendsSurviveCuts sends 1,000 messages while the server cuts
// every connection twice: each send is acknowledged once, and exactly
// 1,000 messages are stored, without gap or duplicate.
func TestRealtimeSendsSurviveCuts(t *testing.T) {
	srv := startServer(t)
	ctx := ctxT(t, 120*time.Second)
	alice, au := newUser(t, srv.URL, "alice")
	bob, bu := newUser(t, srv.URL, "bob")
	d, _, err := alice.Direct(ctx, bu.Username)
	if err != nil {
		t.Fatal(err)
	}
	arec, brec := newRecorder(), newRecorder()
	a := connect(t, alice, arec)
	connect(t, bob, brec)

	const senders, perSender, total = 25, 40, 1000
	var (
		acked   atomic.Int64
		mu      sync.Mutex
		bySeq   = map[int64]string{}
		sendErr []error
		wg      sync.WaitGroup
	)
	ids := make([]string, total)
	for i := range ids {
		ids[i] = fmt.Sprintf("cut-%04d", i)
	}
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s * perSender; i < (s+1)*perSender; i++ {
				m, err := a.SendWithID(ctx, d.ID, ids[i], fmt.Sprintf("message %d", i))
				mu.Lock()
				if err != nil {
					sendErr = append(sendErr, err)
				} else if prev, dup := bySeq[m.Seq]; dup {
					sendErr = append(sendErr, fmt.Errorf("seq %d acknowledged for %s and %s", m.Seq, prev, ids[i]))
				} else if m.ClientMsgID != ids[i] {
					sendErr = append(sendErr, fmt.Errorf("ack for %s carries %s", ids[i], m.ClientMsgID))
				} else {
					bySeq[m.Seq] = ids[i]
				}
				mu.Unlock()
				acked.Add(1)
			}
		}()
	}
	cuts := 0
	for _, at := range []int64{250, 600} {
		servertest.WaitFor(t, 60*time.Second, func() bool { return acked.Load() >= at }, "%d of %d acknowledged", acked.Load(), at)
		if n := srv.CutConnections(); n > 0 {
			cuts++
		}
	}
	wg.Wait()
	if cuts != 2 {
		t.Fatalf("%d cuts", cuts)
	}
	for _, err := range sendErr {
		t.Error(err)
	}
	if len(bySeq) != total {
		t.Fatalf("%d distinct acknowledgements", len(bySeq))
	}

	// The store holds exactly the 1,000 messages, seq 1..1000.
	var stored []parley.Message
	for after := int64(0); ; {
		page, more, err := bob.History(ctx, d.ID, parley.MessageQuery{AfterSeq: after, Limit: parley.PageSizeMax})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, page...)
		if !more {
			break
		}
		after = page[len(page)-1].Seq
	}
	if len(stored) != total {
		t.Fatalf("%d messages stored", len(stored))
	}
	seen := map[string]bool{}
	for i, m := range stored {
		if m.Seq != int64(i+1) {
			t.Fatalf("position %d holds seq %d", i, m.Seq)
		}
		if seen[m.ClientMsgID] {
			t.Fatalf("%s stored twice", m.ClientMsgID)
		}
		seen[m.ClientMsgID] = true
		if bySeq[m.Seq] != m.ClientMsgID {
			t.Fatalf("seq %d is %s, acknowledged as %s", m.Seq, m.ClientMsgID, bySeq[m.Seq])
		}
	}
	// Both sides saw every message once, in order.
	for name, rec := range map[string]*recorder{"alice": arec, "bob": brec} {
		servertest.WaitFor(t, 20*time.Second, func() bool { return rec.count(d.ID) == total }, "%s has %d", name, rec.count(d.ID))
		rec.check(t)
	}
	arec.mu.Lock()
	reconnects := 0
	for _, s := range arec.states {
		if s == StateReconnecting {
			reconnects++
		}
	}
	arec.mu.Unlock()
	if reconnects < 2 {
		t.Errorf("%d reconnects reported", reconnects)
	}
	_ = au
}

// TestRealtimeSessionEnded: a logout closes the socket with 4001 and the
// session stops for good.
func TestRealtimeSessionEnded(t *testing.T) {
	srv := startServer(t)
	ctx := ctxT(t, 30*time.Second)
	alice, _ := newUser(t, srv.URL, "alice")
	rec := newRecorder()
	rt := connect(t, alice, rec)
	other := New(srv.URL)
	other.SetToken(alice.Token())
	if err := other.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rt.Done():
	case <-ctx.Done():
		t.Fatal("session did not end")
	}
	if !errors.Is(rt.Err(), ErrSessionEnded) {
		t.Fatalf("err = %v", rt.Err())
	}
	rec.mu.Lock()
	states, errs := rec.states, rec.errs
	rec.mu.Unlock()
	if n := len(states); n == 0 || states[n-1] != StateClosed || !errors.Is(errs[n-1], ErrSessionEnded) {
		t.Fatalf("states %v errs %v", states, errs)
	}
	if _, err := rt.Send(ctx, 1, "x"); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("send after the end: %v", err)
	}
	rt.Close()

	// Connecting with a dead token fails at once with 401.
	_, err := alice.Connect(ctx, Handler{})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("connect with a dead token: %v", err)
	}
	checkNoGoroutines(t)
}

// TestRealtimeConnectContext: Connect gives up when its context ends
// before the server can be reached.
func TestRealtimeConnectContext(t *testing.T) {
	srv := startServer(t)
	alice, _ := newUser(t, srv.URL, "alice")
	net := pgtest.NewProxy(t, "tcp", strings.TrimPrefix(srv.URL, "http://"))
	net.Down()
	c := New("http://" + net.Addr())
	c.SetToken(alice.Token())
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Connect(ctx, Handler{}); err == nil {
		t.Fatal("connected through a network that is down")
	}
	checkNoGoroutines(t)
}

// TestRealtimeForeignOrigin: the server refuses a WebSocket from another
// site's page, and the client reports the refusal.
func TestRealtimeForeignOrigin(t *testing.T) {
	srv := startServer(t)
	alice, au := newUser(t, srv.URL, "alice")
	c := New(srv.URL, WithOrigin("https://evil.example"))
	_, err := c.Login(ctxT(t, 5*time.Second), au.Username, "password-"+au.Username)
	wantError(t, "cross-site login", err, http.StatusForbidden, parley.EFORBIDDEN)
	c.SetToken(alice.Token())
	_, err = c.Connect(ctxT(t, 5*time.Second), Handler{})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusForbidden {
		t.Fatalf("connect from a foreign origin: %v", err)
	}
	same := device(t, srv.URL, au, WithOrigin(srv.URL))
	rt, err := same.Connect(ctxT(t, 5*time.Second), Handler{})
	if err != nil {
		t.Fatalf("connect from the server's origin: %v", err)
	}
	rt.Close()
	checkNoGoroutines(t)
}
