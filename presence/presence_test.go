package presence

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/hub"
)

const waitTimeout = 10 * time.Second

// fast is a small configuration so the tests run in well under a second.
var fast = Config{Heartbeat: 50 * time.Millisecond, NodeTimeout: 200 * time.Millisecond, OfflineGrace: 100 * time.Millisecond}

// recorder is an onChange that keeps every call.
type recorder struct {
	mu      sync.Mutex
	changes []called
	signal  chan struct{}
	calls   atomic.Int32 // onChange calls running now: must never exceed 1
	overlap atomic.Bool
}

// called is one onChange call, and when it was made.
type called struct {
	change
	when time.Time
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) onChange(userID int64, online bool, lastSeen time.Time) {
	if r.calls.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.calls.Add(-1)
	r.mu.Lock()
	r.changes = append(r.changes, called{change{userID: userID, online: online, at: lastSeen}, time.Now()})
	r.mu.Unlock()
	wake(r.signal)
}

// of returns the changes of userID so far.
func (r *recorder) of(userID int64) []called {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cs []called
	for _, c := range r.changes {
		if c.userID == userID {
			cs = append(cs, c)
		}
	}
	return cs
}

// waitChanges waits until userID's changes number n, and returns them.
func (r *recorder) waitChanges(t *testing.T, node string, userID int64, n int) []called {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		if cs := r.of(userID); len(cs) >= n {
			return cs
		}
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("%s: after %v, user %d has changes %v, want %d", node, waitTimeout, userID, r.of(userID), n)
		}
	}
}

// check verifies what every recorder must satisfy: onChange calls never
// overlap, and each user's transitions alternate, starting online.
func (r *recorder) check(t *testing.T, node string) {
	t.Helper()
	if r.overlap.Load() {
		t.Errorf("%s: onChange calls overlapped", node)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	last := map[int64]bool{}
	for _, c := range r.changes {
		if c.online == last[c.userID] {
			t.Errorf("%s: user %d reported online=%v twice in a row: %v", node, c.userID, c.online, r.changes)
		}
		last[c.userID] = c.online
	}
}

// node is a Tracker under test with its recorder.
type node struct {
	name string
	*Tracker
	rec *recorder
	bus *flakyBus
}

// flakyBus drops this node's publishes while drop is set: the node falls
// silent for the others, as if it crashed or was cut off.
type flakyBus struct {
	parley.Bus
	drop atomic.Bool
}

func (b *flakyBus) Publish(ctx context.Context, topic string, data []byte) error {
	if b.drop.Load() {
		return nil
	}
	return b.Bus.Publish(ctx, topic, data)
}

// cluster starts n trackers on one in-process bus. At the end of the test it
// closes them, checks their recorders and that all their goroutines ended.
func cluster(t *testing.T, n int, cfg Config) []*node {
	t.Helper()
	bus := hub.NewBus()
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNode(t, bus, fmt.Sprintf("n%d", i+1), cfg)
	}
	t.Cleanup(func() {
		for _, nd := range nodes {
			nd.Close()
			nd.rec.check(t, nd.name)
		}
		bus.Close()
		noTrackerGoroutines(t)
	})
	return nodes
}

func startNode(t *testing.T, bus parley.Bus, name string, cfg Config) *node {
	cfg.Logger = slog.New(slog.DiscardHandler)
	fb := &flakyBus{Bus: bus}
	rec := newRecorder()
	return &node{name: name, Tracker: New(fb, name, cfg, rec.onChange), rec: rec, bus: fb}
}

// noTrackerGoroutines waits until no goroutine runs the Tracker's code.
func noTrackerGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "presence.(*Tracker)") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Tracker goroutines still running after Close:\n%s", stacks)
		}
		<-tick.C
	}
}

// fence makes user id connect and disconnect on nd and waits until every
// node has reported them offline. Grace periods that started before it
// have run out by then, and their offline transitions been reported.
func fence(t *testing.T, nodes []*node, nd *node, id int64) {
	t.Helper()
	nd.Connect(id)
	for _, other := range nodes {
		other.rec.waitChanges(t, other.name, id, 1)
	}
	nd.Disconnect(id)
	for _, other := range nodes {
		other.rec.waitChanges(t, other.name, id, 2)
	}
}

func TestOnlineOnEveryNode(t *testing.T) {
	nodes := cluster(t, 3, fast)
	nodes[0].Connect(7)
	for _, nd := range nodes {
		if cs := nd.rec.waitChanges(t, nd.name, 7, 1); !cs[0].online {
			t.Errorf("%s: first change of user 7 is %+v", nd.name, cs[0])
		}
		if !nd.Online(7) {
			t.Errorf("%s: user 7 not Online", nd.name)
		}
		got := nd.OnlineUsers([]int64{7, 8})
		if want := map[int64]bool{7: true, 8: false}; !equalMaps(got, want) {
			t.Errorf("%s: OnlineUsers = %v, want %v", nd.name, got, want)
		}
	}
}

func equalMaps(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Last connection closes: every node reports the user offline once, after
// the grace period, with the time the connection closed.
func TestOfflineAfterGrace(t *testing.T) {
	nodes := cluster(t, 3, fast)
	nodes[0].Connect(7)
	nodes[0].Connect(7) // two tabs
	for _, nd := range nodes {
		nd.rec.waitChanges(t, nd.name, 7, 1)
	}
	nodes[0].Disconnect(7) // one tab left
	before := time.Now()
	nodes[0].Disconnect(7)
	after := time.Now()
	for _, nd := range nodes {
		cs := nd.rec.waitChanges(t, nd.name, 7, 2)
		reported := cs[1].when
		if cs[1].online {
			t.Fatalf("%s: second change %+v, want offline", nd.name, cs[1])
		}
		if reported.Sub(before) < fast.OfflineGrace {
			t.Errorf("%s: offline reported %v after the disconnect, before the grace period of %v", nd.name, reported.Sub(before), fast.OfflineGrace)
		}
		lastSeen := cs[1].at
		if lastSeen.Before(before) || (nd == nodes[0] && lastSeen.After(after)) || lastSeen.After(reported) {
			t.Errorf("%s: lastSeen %v not when the connection closed (%v to %v)", nd.name, lastSeen, before, after)
		}
		if nd.Online(7) {
			t.Errorf("%s: user 7 still Online", nd.name)
		}
	}
	fence(t, nodes, nodes[0], 99)
	for _, nd := range nodes {
		if cs := nd.rec.of(7); len(cs) != 2 {
			t.Errorf("%s: user 7 changes %v, want online then offline", nd.name, cs)
		}
	}
}

// A user who reconnects within the grace period, on the same node or
// another, never goes offline; nor while another node still has them.
func TestNoFlap(t *testing.T) {
	cfg := fast
	cfg.OfflineGrace = 500 * time.Millisecond // room for a loaded machine
	nodes := cluster(t, 3, cfg)
	nodes[0].Connect(7)
	nodes[0].Connect(8)
	nodes[1].Connect(9)
	nodes[2].Connect(9)
	for _, nd := range nodes {
		for _, id := range []int64{7, 8, 9} {
			nd.rec.waitChanges(t, nd.name, id, 1)
		}
	}
	nodes[0].Disconnect(7) // a reload
	nodes[0].Connect(7)
	nodes[0].Disconnect(8) // moving to another node
	nodes[1].Connect(8)
	nodes[1].Disconnect(9) // still on n3

	fence(t, nodes, nodes[0], 99)
	for _, nd := range nodes {
		for _, id := range []int64{7, 8, 9} {
			if cs := nd.rec.of(id); len(cs) != 1 {
				t.Errorf("%s: user %d changes %v, want online only", nd.name, id, cs)
			}
			if !nd.Online(id) {
				t.Errorf("%s: user %d not Online", nd.name, id)
			}
		}
	}
}

// A node that falls silent has its users go offline elsewhere after the
// node timeout and the grace period; when it is heard again, they come
// back.
func TestSilentNode(t *testing.T) {
	nodes := cluster(t, 3, fast)
	silent := nodes[2]
	start := time.Now() // the others hear from silent after this
	silent.Connect(9)
	for _, nd := range nodes {
		nd.rec.waitChanges(t, nd.name, 9, 1)
	}
	cut := time.Now()
	silent.bus.drop.Store(true)
	for _, nd := range nodes[:2] {
		cs := nd.rec.waitChanges(t, nd.name, 9, 2)
		if after := cs[1].when.Sub(start); after < fast.NodeTimeout+fast.OfflineGrace {
			t.Errorf("%s: user 9 offline %v after the node was last heard, before its timeout and grace", nd.name, after)
		}
		if cs[1].online || cs[1].at.After(cut) {
			t.Errorf("%s: change %+v, want offline with lastSeen before %v", nd.name, cs[1], cut)
		}
	}
	if !silent.Online(9) || len(silent.rec.of(9)) != 1 {
		t.Errorf("the silent node itself lost user 9: %v", silent.rec.of(9))
	}

	silent.bus.drop.Store(false) // heard again at its next heartbeat
	for _, nd := range nodes[:2] {
		if cs := nd.rec.waitChanges(t, nd.name, 9, 3); !cs[2].online {
			t.Errorf("%s: change %+v, want online", nd.name, cs[2])
		}
	}
}

// A node that closes tells the others, whose users go offline after the
// grace period without waiting for the node timeout.
func TestLeave(t *testing.T) {
	cfg := fast
	cfg.Heartbeat, cfg.NodeTimeout = time.Minute, time.Hour
	nodes := cluster(t, 2, cfg)
	nodes[1].Connect(5)
	nodes[0].rec.waitChanges(t, "n1", 5, 1)
	nodes[1].Close()
	nodes[0].rec.waitChanges(t, "n1", 5, 2)
	if nodes[0].Online(5) {
		t.Error("user 5 still Online after their node left")
	}
	nodes[1].Connect(6) // ignored after Close
	if nodes[1].Online(6) {
		t.Error("Connect after Close counted")
	}
}

// A node that starts learns the others' users at once, not at their next
// heartbeat.
func TestNewNodeLearnsAtOnce(t *testing.T) {
	cfg := fast
	cfg.Heartbeat, cfg.NodeTimeout = time.Minute, time.Hour
	nodes := cluster(t, 2, cfg)
	nodes[0].Connect(4)
	nodes[1].Connect(5)
	nodes[1].rec.waitChanges(t, "n2", 4, 1)
	late := startNode(t, nodes[0].bus.Bus, "n3", cfg)
	t.Cleanup(late.Close) // runs before the cluster's cleanup
	late.rec.waitChanges(t, "n3", 4, 1)
	late.rec.waitChanges(t, "n3", 5, 1)
}

// Unbalanced Disconnects are ignored, and Close is idempotent.
func TestMisuse(t *testing.T) {
	nodes := cluster(t, 2, fast)
	nodes[0].Disconnect(3)
	nodes[0].Connect(3)
	nodes[0].Disconnect(3)
	nodes[0].Disconnect(3)
	nodes[0].Connect(3)
	fence(t, nodes, nodes[0], 99)
	for _, nd := range nodes {
		if cs := nd.rec.of(3); len(cs) != 1 || !cs[0].online || !nd.Online(3) {
			t.Errorf("%s: user 3 changes %v, want online only", nd.name, cs)
		}
	}
	nodes[0].Close()
	nodes[0].Close()
}

// A negative grace reports offline at once.
func TestNoGrace(t *testing.T) {
	cfg := fast
	cfg.OfflineGrace = -1
	nodes := cluster(t, 1, cfg)
	nodes[0].Connect(1)
	nodes[0].Disconnect(1)
	if nodes[0].Online(1) {
		t.Error("user still Online with no grace period")
	}
	nodes[0].rec.waitChanges(t, "n1", 1, 2)
}

// Many users on many nodes, connecting and disconnecting concurrently:
// every node ends with the same, right view.
func TestConcurrentChurn(t *testing.T) {
	nodes := cluster(t, 3, fast)
	const users = 50
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Go(func() {
			for round := range 20 {
				for id := range int64(users) {
					nd.Connect(id)
					if (int64(round)+id+int64(i))%3 != 0 {
						nd.Disconnect(id)
					}
				}
				for id := range int64(users) {
					if (int64(round)+id+int64(i))%3 == 0 {
						nd.Disconnect(id)
					}
				}
			}
			if i == 0 {
				for id := range int64(users / 2) {
					nd.Connect(id) // these stay
				}
			}
		})
	}
	wg.Wait()
	// Each node's fence comes after its churn: then every node has heard
	// all of it and every grace period it started has run out.
	for i, nd := range nodes {
		fence(t, nodes, nd, int64(1000+i))
	}
	ids := make([]int64, users)
	for i := range ids {
		ids[i] = int64(i)
	}
	for _, nd := range nodes {
		var online []int64
		for id, on := range nd.OnlineUsers(ids) {
			if on {
				online = append(online, id)
			}
		}
		slices.Sort(online)
		if len(online) != users/2 || online[0] != 0 || online[len(online)-1] != users/2-1 {
			t.Errorf("%s: online %v, want 0..%d", nd.name, online, users/2-1)
		}
	}
}
