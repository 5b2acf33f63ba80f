package clustertest_test

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"parley/client"
	"parley/clustertest"
	"parley/servertest"
)

// cluster is three nodes behind a balancer, six people with a realtime
// session each through the balancer (two per node) and one group of them
// all.
type cluster struct {
	lb     *clustertest.Balancer
	people []*person
	group  int64
}

func newCluster(t *testing.T, nodeURLs []string) *cluster {
	t.Helper()
	var backends []string
	for _, u := range nodeURLs {
		backends = append(backends, clustertest.HostPort(u))
	}
	lb := clustertest.NewBalancer(t, backends...)
	ctx := ctxT(t, 60*time.Second)
	cl := &cluster{lb: lb}
	for range 6 {
		cl.people = append(cl.people, newPerson(t, lb.URL(), "user"))
	}
	g, err := cl.people[0].c.CreateGroup(ctx, "Failover", "")
	if err != nil {
		t.Fatal(err)
	}
	cl.group = g.ID
	for _, p := range cl.people[1:] {
		if _, _, err := p.c.JoinGroup(ctx, g.Code); err != nil {
			t.Fatalf("%s joins: %v", p.name, err)
		}
	}
	// One after the other, nothing else going through the balancer: the
	// round robin puts two sessions on each node.
	for _, p := range cl.people {
		p.connect(t, client.WithAutoReceipts(50*time.Millisecond))
	}
	count := map[string]int{}
	for _, p := range cl.people {
		count[p.node()]++
	}
	for i := range nodeURLs {
		if id := fmt.Sprintf("n%d", i+1); count[id] != 2 {
			t.Fatalf("sessions per node: %v, want 2 on each", count)
		}
	}
	return cl
}

func (cl *cluster) on(node string) []*person {
	var out []*person
	for _, p := range cl.people {
		if p.node() == node {
			out = append(out, p)
		}
	}
	return out
}

// sendThroughFailure has everyone send while kill takes node victim down,
// and checks that the people on it carry on through another node: every
// acknowledged message is in the history once, in order, and every session
// ends up holding the whole history.
func (cl *cluster) sendThroughFailure(t *testing.T, victim string, kill func()) {
	t.Helper()
	orphans := cl.on(victim)
	l := newLedger()
	stop := senders(t, cl.people, cl.group, l)
	servertest.WaitFor(t, 20*time.Second, func() bool {
		for _, p := range cl.people {
			if l.acks(p.name) < 10 {
				return false
			}
		}
		return true
	}, "every sender to have 10 messages acknowledged")

	before := map[string]int{}
	for _, p := range cl.people {
		before[p.name] = l.acks(p.name)
	}
	killed := time.Now()
	kill()
	t.Logf("%s killed after %d acknowledged messages", victim, l.total())

	// The people of the dead node reconnect through the balancer to a live
	// one, resend what was not acknowledged, and go on sending, as does
	// everyone else.
	servertest.WaitFor(t, 30*time.Second, func() bool {
		for _, p := range cl.people {
			if l.acks(p.name) < before[p.name]+10 {
				return false
			}
		}
		return true
	}, "every sender to have 10 more messages acknowledged after the kill")
	for _, p := range orphans {
		if n := p.node(); n == victim || n == "" {
			t.Fatalf("%s is on %q after the kill", p.name, n)
		}
	}
	t.Logf("everyone sends again %v after the kill", time.Since(killed).Round(time.Millisecond))
	stop()

	hist := history(t, cl.people[0].c, cl.group)
	checkLedger(t, hist, l)
	waitConverged(t, 20*time.Second, cl.people, cl.group, hist)
	t.Logf("%d acknowledged, history of %d, every session holds all of it", l.total(), len(hist))
}

// TestNodeKilled: a node dies (in process: every connection cut, nothing
// flushed) while its clients send.
func TestNodeKilled(t *testing.T) {
	d := clustertest.New(t)
	nodes := d.StartN(t, 3)
	cl := newCluster(t, []string{nodes[0].URL, nodes[1].URL, nodes[2].URL})
	cl.sendThroughFailure(t, "n2", nodes[1].Kill)
}

// TestNodeKill9: a real `parley serve` process is killed with SIGKILL while
// its clients send. Its clients go on through the other nodes; the users it
// alone had go offline for everyone within the documented bound
// (Presence.NodeTimeout + OfflineGrace), and those who moved to another
// node never appear offline.
func TestNodeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the parley binary")
	}
	d := clustertest.New(t)
	n1, n2 := d.Start(t, "n1"), d.Start(t, "n2")
	addr := freeAddr(t)
	n3 := startProcess(t, addr, d.ServeArgs("n3", addr)...)
	cl := newCluster(t, []string{n1.URL, n2.URL, n3.url})

	// zed talks to n3 directly, with nowhere else to go when it dies.
	zed := newPerson(t, n3.url, "zed")
	g, err := cl.people[0].c.Conversation(ctxT(t, 10*time.Second), cl.group)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := zed.c.JoinGroup(ctxT(t, 10*time.Second), g.Code); err != nil {
		t.Fatal(err)
	}
	zed.connect(t)
	watchers := slices.DeleteFunc(slices.Clone(cl.people), func(p *person) bool { return p.node() == "n3" })
	for _, w := range watchers {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			x, _, ok := w.rec.lastPresence(zed.user.ID, time.Time{})
			return ok && x.Online
		}, "%s sees zed online", w.name)
	}
	orphans := cl.on("n3")

	var killed time.Time
	cl.sendThroughFailure(t, "n3", func() {
		killed = time.Now()
		n3.kill()
	})

	bound := clustertest.Presence.NodeTimeout + clustertest.Presence.OfflineGrace
	for _, w := range watchers {
		servertest.WaitFor(t, bound+5*time.Second, func() bool {
			x, _, ok := w.rec.lastPresence(zed.user.ID, killed)
			return ok && !x.Online
		}, "%s sees zed offline after n3 died", w.name)
		_, at, _ := w.rec.lastPresence(zed.user.ID, killed)
		took := at.Sub(killed)
		t.Logf("%s saw zed offline %v after kill -9 (bound %v)", w.name, took.Round(time.Millisecond), bound)
		// Slack for a loaded test machine: the bound is what the trackers
		// promise, the rest is delivery.
		if took > bound+2*time.Second {
			t.Errorf("%s saw zed offline %v after the kill, bound %v", w.name, took, bound)
		}
		for _, o := range orphans {
			for _, x := range w.rec.presenceOf(o.user.ID, killed) {
				if !x.Online {
					t.Errorf("%s saw %s offline, who moved to %s", w.name, o.name, o.node())
				}
			}
		}
	}
	// Every node agrees: zed offline, the others online.
	for _, n := range []*servertest.Server{n1, n2} {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			if n.Node.Presence.Online(zed.user.ID) {
				return false
			}
			for _, p := range cl.people {
				if !n.Node.Presence.Online(p.user.ID) {
					return false
				}
			}
			return true
		}, "node %s's view of presence", n.Node.NodeID)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
