package clustertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/app"
	"parley/client"
	"parley/clustertest"
	"parley/pgtest"
	"parley/servertest"
)

// behindProxy is a deployment of three nodes whose database connections go
// through a proxy the test can cut, one person per node with a realtime
// session, and a group of them all.
type behindProxy struct {
	db     string // the database, direct
	px     *pgtest.Proxy
	nodes  []*servertest.Server
	people []*person
	group  parley.ConversationSummary
}

func newBehindProxy(t *testing.T, configure ...func(*app.Config)) *behindProxy {
	t.Helper()
	db := clustertest.Postgres(t)
	network, target := pgtest.Target(t, db)
	px := pgtest.NewProxy(t, network, target)
	d := &clustertest.Deployment{DatabaseURL: pgtest.ThroughProxy(t, db, px.Addr()),
		NATSURL: clustertest.NATS(t), NATSPrefix: clustertest.NewPrefix(),
		Configure: func(c *app.Config) {
			for _, f := range configure {
				f(c)
			}
		}}
	bp := &behindProxy{db: db, px: px, nodes: d.StartN(t, 3)}
	// Should the test fail with a request stuck in the proxy, cut it
	// before the nodes stop: a node waits for its queries to end.
	t.Cleanup(func() { px.Down() })
	ctx := ctxT(t, 30*time.Second)
	for i, n := range bp.nodes {
		bp.people = append(bp.people, newPerson(t, n.URL, fmt.Sprintf("pg%d-", i+1)))
	}
	g, err := bp.people[0].c.CreateGroup(ctx, "Through the proxy", "")
	if err != nil {
		t.Fatal(err)
	}
	bp.group = g
	for _, p := range bp.people[1:] {
		if _, _, err := p.c.JoinGroup(ctx, g.Code); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range bp.people {
		p.connect(t)
	}
	return bp
}

// wantUnavailable checks the answer is a clean 503 unavailable: the one
// message of parley.ErrUnavailable, nothing of the driver's.
func wantUnavailable(t testing.TB, what string, a servertest.Answer) {
	t.Helper()
	ctype := a.Header.Get("Content-Type")
	if a.Status != http.StatusServiceUnavailable || a.Code() != parley.EUNAVAILABLE ||
		a.Obj("error")["message"] != parley.ErrUnavailable.Message || !strings.HasPrefix(ctype, "application/json") {
		t.Errorf("%s while the database is away: %d %s %s, want 503 unavailable", what, a.Status, ctype, a.Raw)
	}
}

func waitReady(t testing.TB, nodes []*servertest.Server, want int) {
	t.Helper()
	for _, n := range nodes {
		servertest.WaitFor(t, 20*time.Second, func() bool { return servertest.Do(t, n.URL, "", "GET", "/readyz", nil).Status == want },
			"%s /readyz to answer %d", n.Node.NodeID, want)
	}
}

// TestPostgresOutage: the database goes away (every connection cut, new
// ones refused) while people send, and comes back, under the same running
// nodes. While it is away every request that needs it gets a clear 503
// unavailable — over REST, at the WebSocket upgrade, and as the reply to a
// WebSocket operation — and /readyz says not ready; clients keep their
// sends and resend them with the same client_msg_id. When it is back the
// nodes recover by themselves: no acknowledged message is lost or doubled,
// and every client ends with the whole history.
func TestPostgresOutage(t *testing.T) {
	bp := newBehindProxy(t)
	ctx := ctxT(t, 90*time.Second)
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

	cut := bp.px.Down()
	downAt := time.Now()
	t.Logf("database cut (%d connections) after %d acknowledged messages", cut, l.total())
	before := map[string]int{}
	for _, p := range bp.people {
		before[p.name] = l.acks(p.name)
	}

	alice := bp.people[0]
	tok := alice.c.Token()
	gid := bp.group.ID
	for _, n := range bp.nodes {
		for _, c := range []struct {
			method, path, token string
			body                any
		}{
			{"POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), tok, map[string]string{"client_msg_id": "rest-during-outage", "text": "hello?"}},
			{"GET", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), tok, nil},
			{"GET", "/api/v1/conversations", tok, nil},
			{"GET", "/api/v1/me", tok, nil},
			{"POST", "/api/v1/auth/login", "", map[string]string{"login": alice.name, "password": "password-" + alice.name}},
			{"POST", "/api/v1/auth/signup", "", map[string]string{"username": "newcomer", "email": "newcomer@example.com", "password": "password-newcomer"}},
			{"GET", "/api/v1/ws", tok, nil}, // a reconnecting client's upgrade
		} {
			wantUnavailable(t, n.Node.NodeID+" "+c.method+" "+c.path, servertest.Do(t, n.URL, c.token, c.method, c.path, c.body))
		}
		if a := servertest.Do(t, n.URL, "", "GET", "/readyz", nil); a.Status != http.StatusServiceUnavailable {
			t.Errorf("%s /readyz while the database is away: %d", n.Node.NodeID, a.Status)
		}
	}
	// An open WebSocket stays open; its operations are answered unavailable.
	for _, op := range []struct {
		name   string
		fields map[string]any
	}{
		{"send", map[string]any{"conversation_id": gid, "client_msg_id": "ws-during-outage", "text": "hello?"}},
		{"receipt", map[string]any{"conversation_id": gid, "read_seq": 1}},
		{"typing", map[string]any{"conversation_id": gid, "active": true}},
	} {
		_, err := alice.rt.Request(ctx, op.name, op.fields)
		var e *client.Error
		if code := client.ErrorCode(err); code != parley.EUNAVAILABLE {
			t.Errorf("ws %s while the database is away: %v, want unavailable", op.name, err)
		} else if errors.As(err, &e) && e.Message != parley.ErrUnavailable.Message {
			t.Errorf("ws %s: message %q", op.name, e.Message)
		}
	}
	for _, p := range bp.people {
		if got := l.acks(p.name); got > before[p.name]+1 {
			t.Errorf("%s had %d sends acknowledged while the database was away", p.name, got-before[p.name])
		}
	}

	bp.px.Up(t)
	t.Logf("database back after %v", time.Since(downAt).Round(time.Millisecond))
	waitReady(t, bp.nodes, http.StatusOK)
	servertest.WaitFor(t, 30*time.Second, func() bool {
		for _, p := range bp.people {
			if l.acks(p.name) < before[p.name]+10 {
				return false
			}
		}
		return true
	}, "every sender to have 10 more messages acknowledged once the database is back")
	stop()

	hist := history(t, alice.c, gid)
	checkLedger(t, hist, l)
	waitConverged(t, 20*time.Second, bp.people, gid, hist)
	t.Logf("%d acknowledged, history of %d, every session holds all of it", l.total(), len(hist))
}

// TestAckLostWithDatabase: a send commits but the database's answer is
// lost (the connection breaks between the commit and its reply). The
// sender gets 503 and sends again with the same client_msg_id: the answer
// is the original message (200, not 201, nothing stored twice), and the
// other members — whose nodes never heard of the message, as the first
// node could not announce what it did not know was stored — receive it
// live, with no later message needed to reveal it.
func TestAckLostWithDatabase(t *testing.T) {
	bp := newBehindProxy(t)
	alice := bp.people[0]
	path := fmt.Sprintf("%s/api/v1/conversations/%d/messages", bp.nodes[0].URL, bp.group.ID)
	body := map[string]string{"client_msg_id": "lost-ack", "text": "did this arrive?"}
	db := clustertest.Connect(t, bp.db)

	bp.px.LoseAnswersTo([]byte("lost-ack"))
	first := make(chan servertest.Answer, 1)
	go func() { first <- servertest.Do(t, path, alice.c.Token(), "POST", "", body) }()
	servertest.WaitFor(t, 20*time.Second, func() bool {
		var n int
		err := db.QueryRow(context.Background(), "SELECT count(*) FROM messages WHERE client_msg_id = 'lost-ack'").Scan(&n)
		return err == nil && n == 1
	}, "the message to be committed")
	bp.px.Down()
	a := <-first
	wantUnavailable(t, "the send whose answer was lost", a)

	bp.px.Up(t)
	waitReady(t, bp.nodes, http.StatusOK)
	again := servertest.Do(t, path, alice.c.Token(), "POST", "", body)
	var got struct {
		Message parley.Message `json:"message"`
	}
	json.Unmarshal(again.Raw, &got)
	if again.Status != http.StatusOK || got.Message.ClientMsgID != "lost-ack" {
		t.Fatalf("resend: %d %s, want 200 with the original message", again.Status, again.Raw)
	}
	for _, p := range bp.people {
		servertest.WaitFor(t, 5*time.Second, func() bool { return p.rec.hasText(bp.group.ID, body["text"]) },
			"%s (%s) to receive the message", p.name, p.node())
	}
	hist := history(t, alice.c, bp.group.ID)
	if n := len(hist); hist[n-1].ClientMsgID != "lost-ack" || hist[n-2].ClientMsgID == "lost-ack" {
		t.Fatalf("history ends %+v", hist[max(n-2, 0):])
	}
	waitConverged(t, 5*time.Second, bp.people, bp.group.ID, hist)
}
