// Package bustest is the conformance suite for parley.Bus: hub.Bus (in
// process) and nats.Bus run the same tests, so code above the seam may rely
// on what is checked here and nothing more.
//
// The tests never sleep: handlers record what they get and signal a
// channel, and the test waits on that channel until its condition holds or
// a deadline passes.
package bustest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
)

// Timeout bounds every wait in the suite. It is generous because the suite
// also runs under the race detector against a networked bus.
var Timeout = 30 * time.Second

// Run runs the suite. Each subtest calls newBus for a fresh deployment: two
// or more buses that are the nodes of one deployment (for the in-process
// bus, the same *hub.Bus more than once; for NATS, separate connections to
// one server). newBus registers their Close with t.Cleanup; Close may then
// run twice, so it must tolerate that.
func Run(t *testing.T, newBus func(t *testing.T) []parley.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, buses []parley.Bus)
	}{
		{"ReachesEveryNode", testReachesEveryNode},
		{"Unsubscribe", testUnsubscribe},
		{"Order", testOrder},
		{"TopicsIsolated", testTopicsIsolated},
		{"ManyTopics", testManyTopics},
		{"ConcurrentPublishers", testConcurrentPublishers},
		{"HandlerMayPublishAndUnsubscribe", testReentrant},
		{"HandlersMayKeepData", testKeepData},
		{"CanceledContext", testCanceledContext},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buses := newBus(t)
			if len(buses) < 2 {
				t.Fatalf("newBus returned %d buses, want 2 or more", len(buses))
			}
			tt.fn(t, buses)
		})
	}
}

// A recorder is a handler that keeps every message it gets, in order.
type recorder struct {
	mu     sync.Mutex
	msgs   [][]byte
	signal chan struct{} // capacity 1: "msgs changed since you last looked"
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) handle(data []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, data)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

// waitFor waits until cond holds for the messages received so far. cond
// runs with r.mu held and must not keep msgs.
func (r *recorder) waitFor(t *testing.T, what string, cond func(msgs [][]byte) bool) {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, n := cond(r.msgs), len(r.msgs)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("after %v: still waiting for %s (have %d messages)", Timeout, what, n)
		}
	}
}

func (r *recorder) waitLen(t *testing.T, n int) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%d messages", n), func(msgs [][]byte) bool { return len(msgs) >= n })
}

func (r *recorder) waitMsg(t *testing.T, msg string) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("message %q", msg), func(msgs [][]byte) bool {
		for _, m := range msgs {
			if string(m) == msg {
				return true
			}
		}
		return false
	})
}

// subscribe subscribes a new recorder to topic on b until the test ends.
func subscribe(t *testing.T, b parley.Bus, topic string) *recorder {
	t.Helper()
	r := newRecorder()
	unsub, err := b.Subscribe(topic, r.handle)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", topic, err)
	}
	t.Cleanup(unsub)
	return r
}

func publish(t *testing.T, b parley.Bus, topic string, data []byte) {
	t.Helper()
	if err := b.Publish(context.Background(), topic, data); err != nil {
		t.Fatalf("Publish(%q): %v", topic, err)
	}
}

func strs(msgs [][]byte) []string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = string(m)
	}
	return s
}

// A message published on any node reaches the subscribers on every node,
// once.
func testReachesEveryNode(t *testing.T, buses []parley.Bus) {
	const topic = "fanout"
	recs := make([]*recorder, len(buses))
	for i, b := range buses {
		recs[i] = subscribe(t, b, topic)
	}
	for p, b := range buses {
		publish(t, b, topic, fmt.Appendf(nil, "from %d", p))
	}
	for i, r := range recs {
		for p := range buses {
			r.waitMsg(t, fmt.Sprintf("from %d", p))
		}
		// A last message from node 0 comes after node 0's first; by the
		// time it arrives, a duplicate would likely have too.
		publish(t, buses[0], topic, fmt.Appendf(nil, "end %d", i))
		r.waitMsg(t, fmt.Sprintf("end %d", i))
		seen := map[string]int{}
		for _, m := range r.messages() {
			seen[string(m)]++
		}
		for p := range buses {
			if n := seen[fmt.Sprintf("from %d", p)]; n != 1 {
				t.Errorf("subscriber on node %d got the message from node %d %d times, want 1", i, p, n)
			}
		}
	}
}

// After unsubscribe returns the handler is not called again; other
// subscribers of the topic are unaffected; unsubscribe is idempotent.
func testUnsubscribe(t *testing.T, buses []parley.Bus) {
	const topic = "unsub"
	sub, pub := buses[len(buses)-1], buses[0]
	gone := newRecorder()
	unsub, err := sub.Subscribe(topic, gone.handle)
	if err != nil {
		t.Fatal(err)
	}
	stay := subscribe(t, sub, topic)
	publish(t, pub, topic, []byte("one"))
	gone.waitMsg(t, "one")
	stay.waitMsg(t, "one")

	unsub()
	unsub() // idempotent
	publish(t, pub, topic, []byte("two"))
	publish(t, pub, topic, []byte("end"))
	stay.waitMsg(t, "end")
	if got := strs(gone.messages()); len(got) != 1 {
		t.Errorf("unsubscribed handler got %q, want only \"one\"", got)
	}
	if got := strs(stay.messages()); len(got) != 3 {
		t.Errorf("remaining subscriber got %q, want one, two, end", got)
	}
}

// Messages from one publisher to one topic arrive in publish order, on
// every node.
func testOrder(t *testing.T, buses []parley.Bus) {
	const topic, n = "order", 10000
	recs := []*recorder{subscribe(t, buses[0], topic), subscribe(t, buses[len(buses)-1], topic)}
	for i := range n {
		publish(t, buses[0], topic, binary.AppendUvarint(nil, uint64(i)))
	}
	for node, r := range recs {
		r.waitLen(t, n)
		for i, m := range r.messages() {
			if v, _ := binary.Uvarint(m); v != uint64(i) {
				t.Fatalf("subscriber %d: message %d is %d, want %d (of %d)", node, i, v, i, n)
			}
		}
	}
}

// A subscriber gets its topic's messages and no other, even for topics that
// share a prefix or a dot-separated part.
func testTopicsIsolated(t *testing.T, buses []parley.Bus) {
	topics := []string{"iso", "iso.x", "isox", "x.iso", "is", "iso.x.y"}
	recs := make([]*recorder, len(topics))
	for i, topic := range topics {
		recs[i] = subscribe(t, buses[len(buses)-1], topic)
	}
	for _, topic := range topics {
		publish(t, buses[0], topic, []byte(topic))
	}
	for _, topic := range topics {
		publish(t, buses[0], topic, []byte("end"))
	}
	for i, r := range recs {
		r.waitMsg(t, "end")
		if got := strs(r.messages()); len(got) != 2 || got[0] != topics[i] {
			t.Errorf("subscriber of %q got %q, want [%q end]", topics[i], got, topics[i])
		}
	}
}

// Many topics at once, each with its own subscriber.
func testManyTopics(t *testing.T, buses []parley.Bus) {
	const n = 500
	recs := make([]*recorder, n)
	for i := range recs {
		recs[i] = subscribe(t, buses[i%len(buses)], fmt.Sprintf("many.%d", i))
	}
	for i := range n {
		b := buses[(i+1)%len(buses)]
		publish(t, b, fmt.Sprintf("many.%d", i), fmt.Appendf(nil, "%d", i))
	}
	for i, r := range recs {
		r.waitLen(t, 1)
		if got := strs(r.messages()); len(got) != 1 || got[0] != fmt.Sprint(i) {
			t.Errorf("topic many.%d got %q", i, got)
		}
	}
}

// Publishers on several goroutines and nodes at once: every subscriber gets
// every message, each publisher's in its order.
func testConcurrentPublishers(t *testing.T, buses []parley.Bus) {
	const topic, pubs, per = "concurrent", 8, 500
	recs := make([]*recorder, len(buses))
	for i, b := range buses {
		recs[i] = subscribe(t, b, topic)
	}
	var wg sync.WaitGroup
	for p := range pubs {
		wg.Go(func() {
			b := buses[p%len(buses)]
			for i := range per {
				msg := binary.AppendUvarint([]byte{byte(p)}, uint64(i))
				if err := b.Publish(context.Background(), topic, msg); err != nil {
					t.Errorf("publisher %d: %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for node, r := range recs {
		r.waitLen(t, pubs*per)
		var next [pubs]uint64
		for _, m := range r.messages() {
			p := m[0]
			v, _ := binary.Uvarint(m[1:])
			if v != next[p] {
				t.Fatalf("subscriber on node %d: publisher %d's message %d arrived when %d was due", node, p, v, next[p])
			}
			next[p]++
		}
	}
}

// A handler may publish and may unsubscribe itself: the bus holds no lock
// while it calls handlers.
func testReentrant(t *testing.T, buses []parley.Bus) {
	node := buses[len(buses)-1]
	out := subscribe(t, buses[0], "re.out")
	check := subscribe(t, node, "re.in")

	var (
		mu    sync.Mutex
		unsub func()
		calls atomic.Int32
	)
	handler := func(data []byte) {
		calls.Add(1)
		mu.Lock()
		u := unsub
		mu.Unlock()
		u()
		if err := node.Publish(context.Background(), "re.out", data); err != nil {
			t.Errorf("Publish from a handler: %v", err)
		}
	}
	mu.Lock()
	u, err := node.Subscribe("re.in", handler)
	unsub = u
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, buses[0], "re.in", []byte("a"))
	out.waitMsg(t, "a")
	publish(t, buses[0], "re.in", []byte("b"))
	check.waitMsg(t, "b")
	if n := calls.Load(); n != 1 {
		t.Errorf("handler ran %d times after unsubscribing itself, want 1", n)
	}
}

// Handlers may keep the data they get, and the publisher may reuse its
// buffer once Publish returns.
func testKeepData(t *testing.T, buses []parley.Bus) {
	const topic = "keep"
	recs := []*recorder{subscribe(t, buses[0], topic), subscribe(t, buses[len(buses)-1], topic)}
	buf := []byte("first")
	publish(t, buses[0], topic, buf)
	copy(buf, "XXXXX")
	publish(t, buses[0], topic, []byte("second"))
	for _, r := range recs {
		r.waitMsg(t, "second")
		if got := r.messages(); !bytes.Equal(got[0], []byte("first")) {
			t.Errorf("first message reads %q after the publisher reused its buffer", got[0])
		}
	}
}

// Publish with a done context fails with the context's error.
func testCanceledContext(t *testing.T, buses []parley.Bus) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := buses[0].Publish(ctx, "canceled", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a canceled context: %v, want context.Canceled", err)
	}
}

// After Close, the bus refuses Publish and Subscribe and calls no handler;
// the other nodes carry on.
func testClose(t *testing.T, buses []parley.Bus) {
	const topic = "close"
	closing := buses[0]
	var other parley.Bus
	for _, b := range buses[1:] {
		if b != closing {
			other = b
			break
		}
	}
	dead := newRecorder()
	unsub, err := closing.Subscribe(topic, dead.handle)
	if err != nil {
		t.Fatal(err)
	}
	var alive *recorder
	if other != nil {
		alive = subscribe(t, other, topic)
	}

	if err := closing.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := closing.Publish(context.Background(), topic, []byte("x")); err == nil {
		t.Error("Publish after Close succeeded")
	}
	if _, err := closing.Subscribe(topic, func([]byte) {}); err == nil {
		t.Error("Subscribe after Close succeeded")
	}
	unsub()         // harmless after Close
	closing.Close() // so is a second Close

	if other != nil {
		publish(t, other, topic, []byte("still here"))
		alive.waitMsg(t, "still here")
		if got := strs(dead.messages()); len(got) != 0 {
			t.Errorf("handler on the closed bus got %q", got)
		}
	}
}
