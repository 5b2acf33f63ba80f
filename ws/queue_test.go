package ws

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"parley"
	"parley/hub"
)

// queueConns registers n connections without sockets in conversation 7 of
// a server with cfg; their writers never run, so what is queued stays.
func queueConns(t *testing.T, cfg Config, n int) (*Server, *hub.Bus, []*Conn) {
	t.Helper()
	bus := hub.NewBus()
	t.Cleanup(func() { bus.Close() })
	reg := hub.NewRegistry(bus, nil)
	srv := NewServer(nil, reg, nil, cfg, nil)
	conns := make([]*Conn, n)
	for i := range conns {
		c := newConn(srv, nil, parley.User{ID: int64(i + 1)}, parley.Session{ID: int64(i + 1)}, fmt.Sprintf("n-%d", i))
		c.writing = true // no writer: nothing to write to
		if _, err := reg.Register(c, []int64{7}); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	return srv, bus, conns
}

func isClosed(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// TestQueueBudgetSharedEvents: a group's event queued on every member's
// connection counts once against the node's budget, so a stall of every
// connection of a 1,000-member group costs no connection while the budget
// lasts, though the same bytes counted per connection would pass it 100
// times over.
func TestQueueBudgetSharedEvents(t *testing.T) {
	srv, bus, conns := queueConns(t, Config{QueueBudget: 8 << 20, QueueAge: time.Hour}, 1000)
	frame := bytes.Repeat([]byte("x"), 8<<10)
	for i := range 100 { // 800 KiB of events, 800 MB counted per connection
		ev := parley.MarshalEvent(parley.Event{Type: parley.EventFrame, ConversationID: 7, Seq: int64(i + 1), Frame: frame})
		if err := bus.Publish(t.Context(), parley.ConversationTopic(7), ev); err != nil {
			t.Fatal(err)
		}
	}
	if q := srv.QueuedBytes(); q > 4<<20 {
		t.Fatalf("the node's queues count %d bytes, want the events once (800 KiB) and a little per entry", q)
	}
	for _, c := range conns {
		if isClosed(c) {
			t.Fatalf("%s dropped during a stall within the budget", c.id)
		}
	}
	for _, r := range DropReasons() {
		if n := srv.SlowConsumerDrops(r); n != 0 {
			t.Fatalf("%d drops for %s", n, r)
		}
	}
}

// TestQueueBudgetShedsFurthestBehind: past the node's budget, the
// connections whose oldest queued frame is oldest are dropped first, until
// the queues hold 3/4 of the budget; the others stay.
func TestQueueBudgetShedsFurthestBehind(t *testing.T) {
	const budget = 1 << 20
	srv, _, conns := queueConns(t, Config{QueueBudget: budget, QueueBytes: budget, QueueAge: time.Hour}, 10)
	frame := bytes.Repeat([]byte("y"), 100<<10)
	now := hub.Mono()
	// Connection i is 10-i seconds behind, with 100 KiB queued each: 1 MB,
	// then one more frame passes the budget.
	for i, c := range conns {
		c.mu.Lock()
		c.enqueueLocked(frame, 1, now-int64(time.Duration(10-i)*time.Second))
		c.mu.Unlock()
	}
	conns[9].send(frame)
	deadline := time.Now().Add(10 * time.Second)
	for srv.shedding.Load() || srv.QueuedBytes() > budget/4*3 {
		if time.Now().After(deadline) {
			t.Fatalf("queues hold %d bytes, want at most %d", srv.QueuedBytes(), budget/4*3)
		}
		time.Sleep(time.Millisecond)
	}
	dropped := 0
	for i, c := range conns {
		if isClosed(c) {
			dropped++
			if i > 3 {
				t.Errorf("%s (%d s behind) dropped before the ones further behind", c.id, 10-i)
			}
		}
	}
	if dropped == 0 || int64(dropped) != srv.SlowConsumerDrops("budget") {
		t.Fatalf("%d dropped, %d counted", dropped, srv.SlowConsumerDrops("budget"))
	}
}

// TestQueueLimits: one connection's queue is judged by bytes and by how long
// its socket has not taken a write, not by how many frames wait, nor by
// the age of frames the server has not yet tried to write.
func TestQueueLimits(t *testing.T) {
	srv, _, conns := queueConns(t, Config{QueueBytes: 64 << 10, QueueAge: time.Second}, 3)
	now := hub.Mono()
	small := []byte(`{"ev":"typing"}`)
	many, big, old := conns[0], conns[1], conns[2]
	for range 3000 { // 3,000 frames, 45 KB, all young
		many.mu.Lock()
		many.enqueueLocked(small, 1, now)
		many.mu.Unlock()
	}
	big.send(bytes.Repeat([]byte("z"), 40<<10))
	big.send(bytes.Repeat([]byte("z"), 40<<10))
	old.mu.Lock()
	old.enqueueLocked(small, 1, now-int64(10*time.Second)) // old, but never tried: not the client's fault
	old.enqueueLocked(small, 1, now)
	stillOpen := !old.closed
	old.writeStart = now - int64(2*time.Second) // a write has waited 2 s for the socket
	old.enqueueLocked(small, 1, now)
	old.mu.Unlock()
	if !stillOpen {
		t.Fatal("a queue the server never tried to write was blamed on the client")
	}
	if isClosed(many) || !isClosed(big) || !isClosed(old) {
		t.Fatalf("closed: many small frames %v, over the bytes %v, over the age %v; want false, true, true",
			isClosed(many), isClosed(big), isClosed(old))
	}
	if srv.SlowConsumerDrops("queue_bytes") != 1 || srv.SlowConsumerDrops("queue_age") != 1 {
		t.Fatalf("drops by bytes %d, by age %d; want 1 and 1", srv.SlowConsumerDrops("queue_bytes"), srv.SlowConsumerDrops("queue_age"))
	}
	if q := srv.QueuedBytes(); q != many.queueCost {
		t.Fatalf("node queues %d bytes, want only the open connection's %d", q, many.queueCost)
	}
}
