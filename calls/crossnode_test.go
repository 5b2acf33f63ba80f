package calls_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"parley/app"
	"parley/calls"
	"parley/servertest"
)

// cluster starts n nodes that share one database (a SQLite file in one
// folder: the nodes run in one process) and one NATS server (embedded), as
// a deployment of many nodes shares PostgreSQL and NATS.
func cluster(t *testing.T, n int, cfg calls.Config) []*servertest.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server did not start")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	dir, prefix := t.TempDir(), fmt.Sprintf("t%x", rand.Uint64())
	nodes := make([]*servertest.Server, n)
	for i := range nodes {
		nodes[i] = servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
			c.DataDir, c.NATSURL, c.NATSPrefix, c.NodeID = dir, ns.ClientURL(), prefix, fmt.Sprintf("node%d", i)
			c.Calls = &cfg
		}))
	}
	return nodes
}

// A call whose caller is on one node and whose callee answers on another:
// the answer, the other device's "answered elsewhere", trickle ICE both
// ways, a refused second accept, hang up and one system message, all
// across nodes.
func TestCrossNode(t *testing.T) {
	nodes := cluster(t, 2, calls.Config{})
	n0, n1 := nodes[0], nodes[1]
	alice, bob, carol := signup(t, n0, "alice"), signup(t, n1, "bob"), signup(t, n0, "carol")
	ab, cb := direct(t, n0, alice, bob), direct(t, n1, carol, bob)

	a := dial(t, n0, alice)                      // coordinator: node 0
	b1, b2 := dial(t, n1, bob), dial(t, n0, bob) // answers on node 1; rings on node 0
	c := dial(t, n1, carol)

	id := a.invite(ab, "video", "offer")
	b1.await("ring on node 1", callEv("ring", id))
	b2.await("ring on node 0", callEv("ring", id))
	a.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	b1.await("early ice", callEv("ice", id))

	b1.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	if ans := a.await("answer", callEv("answer", id)); ans["sdp"] != "answer" {
		t.Fatalf("answer: %v", ans)
	}
	b2.await("answered elsewhere", callEv("answered_elsewhere", id))
	b2.fails("conflict", "call_accept", map[string]any{"call_id": id, "sdp": "answer-2"})
	b1.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	a.await("ice from node 1", callEv("ice", id))
	a.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	b1.await("ice from node 0", callEv("ice", id))

	// Carol, on node 1, calls Bob, who is in a call coordinated by node 0:
	// busy, at once if node 1 has heard of the call, else right after it
	// rang.
	r := c.do("call_invite", map[string]any{"conversation_id": cb, "media": "audio", "sdp": "offer"})
	if r["ok"] == true {
		t.Logf("node 1 had not heard of the call yet: carol's call rang, then ended busy")
		if end := c.await("ended", callEv("ended", r["call_id"].(string))); end["reason"] != "busy" {
			t.Fatalf("carol's call: %v", end)
		}
	} else if r["error"].(map[string]any)["code"] != "busy" {
		t.Fatalf("carol's call: %v", r)
	}
	c.await("missed call message", callMessage("missed"))

	b1.ok("call_hangup", map[string]any{"call_id": id})
	for _, p := range []*peer{a, b1, b2} {
		if end := p.await("ended", callEv("ended", id)); end["reason"] != "hangup" || num(end["by"]) != bob.id {
			t.Fatalf("%s: ended: %v", p.name, end)
		}
	}
	a.await("message", callMessage("ended"))
	b1.await("message", callMessage("ended"))
	expectHistory(t, n1, bob, ab, "ended")
	expectHistory(t, n1, bob, cb, "missed")
}

// The device that answered disconnects from its node: the coordinator, on
// the other node, ends the call.
func TestCrossNodeDisconnect(t *testing.T) {
	nodes := cluster(t, 2, calls.Config{})
	alice, bob := signup(t, nodes[0], "alice"), signup(t, nodes[1], "bob")
	ab := direct(t, nodes[0], alice, bob)
	a, b := dial(t, nodes[0], alice), dial(t, nodes[1], bob)
	id := a.invite(ab, "audio", "offer")
	b.await("ring", callEv("ring", id))
	b.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	a.await("answer", callEv("answer", id))
	b.c.CloseNow()
	if end := a.await("ended", callEv("ended", id)); end["reason"] != "disconnected" || num(end["by"]) != bob.id {
		t.Fatalf("ended: %v", end)
	}
	a.await("message", callMessage("ended"))
	expectHistory(t, nodes[0], alice, ab, "ended")
}

// Glare across nodes: whatever the timing, Alice's call (the smaller user
// id) survives and the pair's history gets one message.
func TestCrossNodeGlare(t *testing.T) {
	nodes := cluster(t, 2, calls.Config{})
	alice, bob := signup(t, nodes[0], "alice"), signup(t, nodes[1], "bob")
	ab := direct(t, nodes[0], alice, bob)
	a, b := dial(t, nodes[0], alice), dial(t, nodes[1], bob)
	offer := map[string]any{"conversation_id": ab, "media": "audio", "sdp": "offer"}
	ra, rb := a.send("call_invite", offer), b.send("call_invite", offer)
	repA, repB := a.await("alice's reply", isReply(ra)), b.await("bob's reply", isReply(rb))
	if repA["ok"] != true {
		t.Fatalf("alice's call lost: %v", repA)
	}
	won := repA["call_id"].(string)
	if repB["ok"] == true {
		t.Logf("both calls rang; bob's ended with glare")
		if end := b.await("ended", callEv("ended", repB["call_id"].(string))); end["reason"] != "glare" {
			t.Fatalf("bob's call: %v", end)
		}
	} else if repB["error"].(map[string]any)["code"] != "glare" {
		t.Fatalf("bob's reply: %v", repB)
	}
	b.await("ring", callEv("ring", won))
	b.ok("call_accept", map[string]any{"call_id": won, "sdp": "answer"})
	a.await("answer", callEv("answer", won))
	a.ok("call_hangup", map[string]any{"call_id": won})
	a.await("message", callMessage("ended"))
	b.await("message", callMessage("ended"))
	expectHistory(t, nodes[1], bob, ab, "ended")
}

// A node that dies takes its calls with it; the other nodes forget them
// after three announce intervals, so nobody stays busy.
func TestCoordinatorDies(t *testing.T) {
	nodes := cluster(t, 2, calls.Config{AnnounceInterval: 100 * time.Millisecond, RequestTimeout: 300 * time.Millisecond})
	alice, bob, carol := signup(t, nodes[0], "alice"), signup(t, nodes[1], "bob"), signup(t, nodes[1], "carol")
	ab, cb := direct(t, nodes[0], alice, bob), direct(t, nodes[1], carol, bob)
	a, b, c := dial(t, nodes[0], alice), dial(t, nodes[1], bob), dial(t, nodes[1], carol)
	id := a.invite(ab, "audio", "offer")
	b.await("ring", callEv("ring", id))
	b.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	a.await("answer", callEv("answer", id))

	nodes[0].Kill()
	b.fails("unavailable", "call_hangup", map[string]any{"call_id": id})

	// Carol may find Bob busy until node 1 forgets the dead call; each
	// refused attempt leaves a missed call.
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	busy := 0
	for {
		r := c.do("call_invite", map[string]any{"conversation_id": cb, "media": "audio", "sdp": "offer"})
		if r["ok"] == true {
			b.await("ring", callEv("ring", r["call_id"].(string)))
			c.ok("call_cancel", map[string]any{"call_id": r["call_id"]})
			break
		}
		if code := r["error"].(map[string]any)["code"]; code != "busy" || time.Now().After(deadline) {
			t.Fatalf("carol's call: %v", r)
		}
		busy++
		c.await("missed call message", callMessage("missed"))
		<-tick.C
	}
	want := make([]string, busy+1)
	for i := range want {
		want[i] = "missed"
	}
	c.await("message", callMessage("missed"))
	expectHistory(t, nodes[1], carol, cb, want...)
}

// Alice (node 0) and Carol (node 1) call Bob at the same moment. Bob ends
// up rung for one call: the other is refused (busy) or, if both nodes let
// their call ring before hearing of the other, ends busy once they do.
// Each call leaves one message.
func TestCrossNodeRace(t *testing.T) {
	nodes := cluster(t, 2, calls.Config{})
	alice, bob, carol := signup(t, nodes[0], "alice"), signup(t, nodes[1], "bob"), signup(t, nodes[1], "carol")
	ab, cb := direct(t, nodes[0], alice, bob), direct(t, nodes[1], carol, bob)
	a, b, c := dial(t, nodes[0], alice), dial(t, nodes[1], bob), dial(t, nodes[1], carol)
	offer := func(conv int64) map[string]any {
		return map[string]any{"conversation_id": conv, "media": "audio", "sdp": "offer"}
	}
	ra, rc := a.send("call_invite", offer(ab)), c.send("call_invite", offer(cb))
	replies := map[*peer]map[string]any{a: a.await("alice's reply", isReply(ra)), c: c.await("carol's reply", isReply(rc))}
	var survivor *peer
	var ids []string
	for p, r := range replies {
		if r["ok"] == true {
			ids = append(ids, r["call_id"].(string))
			continue
		}
		if r["error"].(map[string]any)["code"] != "busy" {
			t.Fatalf("%s: %v", p.name, r)
		}
	}
	switch len(ids) {
	case 0:
		t.Fatal("both calls were refused")
	case 2:
		t.Logf("both calls rang; one ended busy")
		end := b.await("one call ends", func(m map[string]any) bool {
			return callEv("ended", "")(m) && (m["call_id"] == ids[0] || m["call_id"] == ids[1])
		})
		if end["reason"] != "busy" {
			t.Fatalf("ended: %v", end)
		}
		if end["call_id"] == ids[0] {
			ids = ids[1:]
		} else {
			ids = ids[:1]
		}
	}
	id := ids[0]
	for p, r := range replies {
		if r["call_id"] == id {
			survivor = p
		}
	}
	b.await("ring of the survivor", callEv("ring", id))
	b.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	survivor.await("answer", callEv("answer", id))
	survivor.ok("call_hangup", map[string]any{"call_id": id})
	b.await("message", callMessage("ended"))
	b.await("message", callMessage("missed"))
	if survivor == a {
		expectHistory(t, nodes[1], bob, ab, "ended")
		expectHistory(t, nodes[1], bob, cb, "missed")
	} else {
		expectHistory(t, nodes[1], bob, ab, "missed")
		expectHistory(t, nodes[1], bob, cb, "ended")
	}
}
