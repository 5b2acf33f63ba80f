package clustertest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"parley"
	"parley/app"
	"parley/client"
	"parley/servertest"
)

// dbTimeout is the database deadline of the nodes in TestPostgresFrozen
// (the default, parley.DefaultStoreTimeout, is 3 s; a shorter one keeps
// the test short).
const dbTimeout = time.Second

// answered is the bound a test holds a node to when the database does not
// answer: the deadline, plus room for a busy shared machine.
const answered = dbTimeout + 2*time.Second

// timedCall is servertest.Do, with how long the answer took.
func timedCall(t testing.TB, method, url, token string, body any) (servertest.Answer, time.Duration) {
	t.Helper()
	start := time.Now()
	a := servertest.Do(t, url, token, method, "", body)
	return a, time.Since(start)
}

// TestPostgresFrozen: the database stops answering without breaking a
// connection (a blackhole: the proxy in front of it stops relaying, both
// ways, and keeps every socket open), while people send, then answers
// again. Every request that needs it answers 503 unavailable within the
// database deadline — REST send, login, the WebSocket upgrade — and so
// does an operation on an open WebSocket, which stays open (its reader is
// never stuck: a ping op is answered). /readyz turns 503 within 2 s. When
// the database answers again the nodes recover within seconds by
// themselves: the pools hold no connection stuck in the blackhole, no
// acknowledged message is lost or doubled, every session holds the whole
// history without having reconnected.
func TestPostgresFrozen(t *testing.T) {
	bp := newBehindProxy(t, func(c *app.Config) { c.DBTimeout = dbTimeout })
	ctx := ctxT(t, 120*time.Second)
	l := newLedger()
	stop := senders(t, bp.people, bp.group.ID, l)
	servertest.WaitFor(t, 20*time.Second, func() bool {
		for _, p := range bp.people {
			if l.acks(p.name) < 10 {
				return false
			}
		}
		return true
	}, "every sender to have 10 messages acknowledged")

	frozen := bp.px.Freeze()
	frozenAt := time.Now()
	t.Logf("database frozen (%d connections) after %d acknowledged messages", frozen, l.total())
	before := map[string]int{}
	for _, p := range bp.people {
		before[p.name] = l.acks(p.name)
	}

	// /readyz turns 503 within 2 s on every node.
	for _, n := range bp.nodes {
		a, took := timedCall(t, "GET", n.URL+"/readyz", "", nil)
		if a.Status != http.StatusServiceUnavailable || took > 2*time.Second {
			t.Errorf("%s /readyz while the database is frozen: %d after %v, want 503 within 2 s", n.Node.NodeID, a.Status, took)
		}
		t.Logf("%s /readyz answered %d in %v", n.Node.NodeID, a.Status, took.Round(time.Millisecond))
	}

	alice := bp.people[0]
	tok := alice.c.Token()
	gid := bp.group.ID
	for _, n := range bp.nodes {
		for i, c := range []struct {
			method, path, token string
			body                any
		}{
			{"POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), tok, map[string]string{"client_msg_id": "rest-frozen-" + n.Node.NodeID, "text": "hello?"}},
			{"POST", "/api/v1/auth/login", "", map[string]string{"login": alice.name, "password": "password-" + alice.name}},
			{"GET", "/api/v1/ws", tok, nil}, // a reconnecting client's upgrade
		} {
			a, took := timedCall(t, c.method, n.URL+c.path, c.token, c.body)
			wantUnavailable(t, n.Node.NodeID+" "+c.method+" "+c.path, a)
			if took > answered {
				t.Errorf("%s %s %s answered after %v, want within %v", n.Node.NodeID, c.method, c.path, took, answered)
			}
			if i == 0 && n == bp.nodes[0] {
				t.Logf("REST send answered %d in %v", a.Status, took.Round(time.Millisecond))
			}
		}
	}
	// An open WebSocket stays open: its operations are answered
	// unavailable within the deadline, and an operation that needs no
	// database is answered at once, so the reader is not stuck.
	for _, op := range []struct {
		name   string
		fields map[string]any
	}{
		{"send", map[string]any{"conversation_id": gid, "client_msg_id": "ws-frozen", "text": "hello?"}},
		{"sync", map[string]any{"cursors": map[string]any{}}},
		{"receipt", map[string]any{"conversation_id": gid, "read_seq": 1}},
	} {
		start := time.Now()
		_, err := alice.rt.Request(ctx, op.name, op.fields)
		took := time.Since(start)
		if code := client.ErrorCode(err); code != parley.EUNAVAILABLE {
			t.Errorf("ws %s while the database is frozen: %v, want unavailable", op.name, err)
		}
		if took > answered {
			t.Errorf("ws %s answered after %v, want within %v", op.name, took, answered)
		}
		t.Logf("ws %s answered unavailable in %v", op.name, took.Round(time.Millisecond))
	}
	if _, err := alice.rt.Request(ctx, "ping", nil); err != nil {
		t.Errorf("ws ping while the database is frozen: %v", err)
	}
	for _, p := range bp.people {
		if got := l.acks(p.name); got > before[p.name]+1 {
			t.Errorf("%s had %d sends acknowledged while the database was frozen", p.name, got-before[p.name])
		}
	}

	bp.px.Thaw()
	thawedAt := time.Now()
	t.Logf("database answers again after %v", thawedAt.Sub(frozenAt).Round(time.Millisecond))
	waitReady(t, bp.nodes, http.StatusOK)
	t.Logf("every /readyz 200 %v after the thaw", time.Since(thawedAt).Round(time.Millisecond))
	servertest.WaitFor(t, 30*time.Second, func() bool {
		for _, p := range bp.people {
			if l.acks(p.name) < before[p.name]+10 {
				return false
			}
		}
		return true
	}, "every sender to have 10 more messages acknowledged once the database answers")
	stop()
	t.Logf("senders recovered %v after the thaw", time.Since(thawedAt).Round(time.Millisecond))

	// No pool holds a connection that was stuck in the blackhole: every
	// request on every node succeeds.
	for _, n := range bp.nodes {
		for range 20 {
			if a := servertest.Do(t, n.URL, tok, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), nil); a.Status != http.StatusOK {
				t.Fatalf("%s after the thaw: %d %s", n.Node.NodeID, a.Status, a.Raw)
			}
		}
	}

	hist := history(t, alice.c, gid)
	checkLedger(t, hist, l)
	waitConverged(t, 20*time.Second, bp.people, gid, hist)
	for _, p := range bp.people {
		p.rec.mu.Lock()
		for _, s := range p.rec.states {
			if s.v == client.StateReconnecting && s.at.After(frozenAt) {
				t.Errorf("%s's WebSocket was dropped during the freeze", p.name)
				break
			}
		}
		p.rec.mu.Unlock()
	}
	t.Logf("%d acknowledged, history of %d, every session holds all of it", l.total(), len(hist))
}
