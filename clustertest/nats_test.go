package clustertest_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"parley/client"
	"parley/clustertest"
	pnats "parley/nats"
	"parley/servertest"
)

// natsServer is an embedded NATS server that can be stopped and started
// again on the same port.
type natsServer struct {
	t    *testing.T
	port int
	s    *server.Server
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ns := &natsServer{t: t, port: port}
	ns.start()
	t.Cleanup(ns.stop)
	return ns
}

func (ns *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", ns.port) }

func (ns *natsServer) start() {
	ns.t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: ns.port, NoLog: true, NoSigs: true})
	if err != nil {
		ns.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		ns.t.Fatal("embedded NATS server did not start")
	}
	ns.s = s
}

func (ns *natsServer) stop() {
	if ns.s != nil {
		ns.s.Shutdown()
		ns.s.WaitForShutdown()
		ns.s = nil
	}
}

func busConnected(n *servertest.Server) bool {
	b, ok := n.Node.Bus.(*pnats.Bus)
	return ok && b.Connected()
}

// TestNATSRestart: NATS goes away and comes back on the same port while
// people send. Sends keep being acknowledged (the database is the source of
// truth), the nodes reconnect by themselves, every client ends up holding
// every message — including those whose events the outage swallowed, with
// no later message to reveal the gap: each node asks its clients to resync
// when its bus reconnects — and live delivery resumes.
func TestNATSRestart(t *testing.T) {
	ns := startNATS(t)
	d := &clustertest.Deployment{DatabaseURL: clustertest.Postgres(t), NATSURL: ns.url(), NATSPrefix: clustertest.NewPrefix()}
	nodes := d.StartN(t, 3)
	ctx := ctxT(t, 90*time.Second)

	var people []*person
	for i, n := range nodes {
		people = append(people, newPerson(t, n.URL, fmt.Sprintf("nats%d-", i+1)))
	}
	g, err := people[0].c.CreateGroup(ctx, "Through NATS", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people[1:] {
		if _, _, err := p.c.JoinGroup(ctx, g.Code); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range people {
		p.connect(t)
	}
	for _, p := range people {
		if _, err := p.rt.Send(ctx, g.ID, "before from "+p.name); err != nil {
			t.Fatal(err)
		}
	}
	waitConverged(t, 10*time.Second, people, g.ID, history(t, people[0].c, g.ID))

	ns.stop()
	servertest.WaitFor(t, 10*time.Second, func() bool {
		for _, n := range nodes {
			if busConnected(n) {
				return false
			}
		}
		return true
	}, "every node to notice NATS is gone")
	// Sends are still stored and acknowledged.
	for i := range 3 {
		for _, p := range people {
			if _, err := p.rt.Send(ctx, g.ID, fmt.Sprintf("during %d from %s", i, p.name)); err != nil {
				t.Fatalf("send while NATS is down: %v", err)
			}
		}
	}

	ns.start()
	servertest.WaitFor(t, 20*time.Second, func() bool {
		for _, n := range nodes {
			if !busConnected(n) {
				return false
			}
		}
		return true
	}, "every node to reconnect to NATS")
	// No one sends now: the clients must converge on their own.
	hist := history(t, people[0].c, g.ID)
	waitConverged(t, 20*time.Second, people, g.ID, hist)
	for _, p := range people {
		p.rec.mu.Lock()
		reconnected := 0
		for _, s := range p.rec.states {
			if s.v == client.StateReconnecting {
				reconnected++
			}
		}
		p.rec.mu.Unlock()
		if reconnected == 0 {
			t.Errorf("%s was not asked to resync", p.name)
		}
	}

	// Live delivery works again, across nodes.
	for _, p := range people {
		m, err := p.rt.Send(ctx, g.ID, "after from "+p.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range people {
			servertest.WaitFor(t, 5*time.Second, func() bool { return q.rec.hasText(g.ID, m.Text) }, "%s gets %q live", q.name, m.Text)
		}
	}
	waitConverged(t, 10*time.Second, people, g.ID, history(t, people[0].c, g.ID))

	// Presence converges too: each node sees everyone online.
	for _, n := range nodes {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			for _, p := range people {
				if !n.Node.Presence.Online(p.user.ID) {
					return false
				}
			}
			return true
		}, "node %s sees everyone online", n.Node.NodeID)
	}
}
