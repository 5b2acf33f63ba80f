package clustertest_test

import (
	"fmt"
	"testing"
	"time"

	"parley/app"
	"parley/clustertest"
	"parley/push/pushtest"
	"parley/servertest"
)

// pushDeployment is a deployment on PostgreSQL and NATS whose nodes push to
// ps after a short delay.
func pushDeployment(t *testing.T) (*clustertest.Deployment, *pushtest.Service) {
	ps := pushtest.Start(t, "")
	d := clustertest.New(t)
	d.Configure = func(c *app.Config) {
		c.Push.AllowedHosts = []string{ps.Host}
		c.Push.Delay = 500 * time.Millisecond
		c.Push.Poll = 20 * time.Millisecond
	}
	return d, ps
}

// TestPushOncePerDeployment: three nodes all look for due decisions many
// times a second; each member's push goes out exactly once.
func TestPushOncePerDeployment(t *testing.T) {
	d, ps := pushDeployment(t)
	nodes := d.StartN(t, 3)
	ps.SetKey(nodes[0].Node.Push.PublicKey())
	for _, n := range nodes[1:] {
		if k := n.Node.Push.PublicKey(); k != nodes[0].Node.Push.PublicKey() {
			t.Fatalf("nodes have different VAPID keys: %s, %s", k, nodes[0].Node.Push.PublicKey())
		}
	}
	alice := servertest.SignUp(t, nodes[0].URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Club"}).Obj("conversation")
	var subs []string
	for i := range 6 {
		name := fmt.Sprintf("member%d", i)
		u := servertest.SignUp(t, nodes[i%3].URL, name)
		u.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": g["code"]})
		u.Must(201, "POST", "/api/v1/push/subscriptions", ps.Subscribe(name).JSON(""))
		subs = append(subs, name)
	}
	path := fmt.Sprintf("/api/v1/conversations/%v/messages", g["id"])
	for i := range 5 {
		// Bursts far enough apart to be pushed one by one.
		alice.Must(201, "POST", path, map[string]any{"client_msg_id": fmt.Sprintf("c%d", i), "text": fmt.Sprintf("burst %d", i)})
		servertest.WaitFor(t, 20*time.Second, func() bool { return len(ps.Pushes("")) >= 6*(i+1) }, "burst %d pushed", i)
	}
	time.Sleep(2 * time.Second)
	for _, s := range subs {
		if n := len(ps.Pushes(s)); n != 5 {
			t.Errorf("%s got %d pushes, want 5 (one per burst)", s, n)
		}
	}
}

// TestPushAfterNodeKilled: the node that stored a message dies before the
// delay; another node, started afterwards, sends the push, once.
func TestPushAfterNodeKilled(t *testing.T) {
	d, ps := pushDeployment(t)
	d.Configure = func(c *app.Config) {
		c.Push.AllowedHosts = []string{ps.Host}
		c.Push.Delay = 3 * time.Second
		c.Push.Poll = 20 * time.Millisecond
	}
	n1 := d.Start(t, "n1")
	ps.SetKey(n1.Node.Push.PublicKey())
	alice := servertest.SignUp(t, n1.URL, "alice")
	bob := servertest.SignUp(t, n1.URL, "bob")
	bob.Must(201, "POST", "/api/v1/push/subscriptions", ps.Subscribe("bob").JSON(""))
	conv := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", conv["id"]),
		map[string]any{"client_msg_id": "k1", "text": "are you there?"})
	n1.Kill()
	if n := len(ps.Pushes("")); n != 0 {
		t.Fatalf("pushed before the delay: %d", n)
	}
	d.Start(t, "n2")
	servertest.WaitFor(t, 30*time.Second, func() bool { return len(ps.Pushes("bob")) >= 1 }, "the push from the other node")
	time.Sleep(2 * time.Second)
	if got := ps.Pushes("bob"); len(got) != 1 || got[0].Payload["body"] != "are you there?" {
		t.Fatalf("pushes %d: %v", len(got), got)
	}
}

// TestPushNodeKilledWhileSending: the node sending a push dies while the
// push service has not answered; another node sends it once the hold is
// over, and it arrives once.
func TestPushNodeKilledWhileSending(t *testing.T) {
	d, ps := pushDeployment(t)
	d.Configure = func(c *app.Config) {
		c.Push.AllowedHosts = []string{ps.Host}
		c.Push.Delay = 300 * time.Millisecond
		c.Push.Poll = 20 * time.Millisecond
		c.Push.SendHold = 3 * time.Second
	}
	n1 := d.Start(t, "n1")
	ps.SetKey(n1.Node.Push.PublicKey())
	alice := servertest.SignUp(t, n1.URL, "alice")
	bob := servertest.SignUp(t, n1.URL, "bob")
	bob.Must(201, "POST", "/api/v1/push/subscriptions", ps.Subscribe("bob").JSON(""))
	conv := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	ps.SetDelay(time.Minute) // n1's request hangs
	alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", conv["id"]),
		map[string]any{"client_msg_id": "k1", "text": "are you there?"})
	servertest.WaitFor(t, 20*time.Second, func() bool { return ps.Attempts("bob") >= 1 }, "n1's request")
	n1.Kill()
	ps.SetDelay(0)
	d.Start(t, "n2")
	servertest.WaitFor(t, 30*time.Second, func() bool { return len(ps.Pushes("bob")) >= 1 }, "the push from n2")
	// Settled: the store has no push left to send, and n1, which took it
	// first, is dead, so no second push can come.
	db := clustertest.Connect(t, d.DatabaseURL)
	servertest.WaitFor(t, 30*time.Second, func() bool {
		var pending int
		if err := db.QueryRow(t.Context(), "SELECT count(*) FROM pending_pushes").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		return pending == 0
	}, "no push pending")
	if got := ps.Pushes("bob"); len(got) != 1 || got[0].Payload["body"] != "are you there?" {
		t.Fatalf("pushes %d: %v", len(got), got)
	}
}
