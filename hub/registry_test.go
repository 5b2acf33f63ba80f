package hub_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"parley"
	"parley/hub"
)

type fakeConn struct {
	id     string
	user   int64
	mu     sync.Mutex
	frames []string
}

func (c *fakeConn) ID() string            { return c.id }
func (c *fakeConn) UserID() int64         { return c.user }
func (c *fakeConn) SessionID() int64      { return 1 }
func (c *fakeConn) CloseWith(int, string) {}
func (c *fakeConn) Deliver(d *hub.Delivery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, string(d.Frame))
}

func (c *fakeConn) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.frames
	c.frames = nil
	return f
}

// TestRegistryFanout: an event published to a conversation reaches every
// connection of every member connected here (but the excepted one), and
// stops reaching them when they leave or disconnect.
func TestRegistryFanout(t *testing.T) {
	bus := hub.NewBus()
	defer bus.Close()
	reg := hub.NewRegistry(bus, nil)
	ctx := context.Background()
	const conv = 9
	publish := func(frame, except string) {
		t.Helper()
		err := bus.Publish(ctx, parley.ConversationTopic(conv), parley.MarshalEvent(parley.Event{
			Type: parley.EventFrame, ConversationID: conv, ExceptConn: except, Frame: []byte(frame)}))
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(c *fakeConn, want ...string) {
		t.Helper()
		if got := c.take(); !slices.Equal(got, want) {
			t.Errorf("%s got %q, want %q", c.id, got, want)
		}
	}
	a1, a2 := &fakeConn{id: "a1", user: 1}, &fakeConn{id: "a2", user: 1}
	b1 := &fakeConn{id: "b1", user: 2}
	other := &fakeConn{id: "o1", user: 3}
	for _, r := range []struct {
		c   *fakeConn
		ids []int64
	}{{a1, []int64{conv}}, {b1, []int64{conv, 10}}, {other, []int64{10}}, {a2, nil}} {
		if _, err := reg.Register(r.c, r.ids); err != nil {
			t.Fatal(err)
		}
	}
	publish("one", "")
	check(a1, "one")
	check(a2, "one") // a second device of a member: joined through its user
	check(b1, "one")
	check(other)

	publish("two", "a2")
	check(a1, "two")
	check(a2)
	check(b1, "two")

	// b leaves the conversation; a1 disconnects.
	if err := bus.Publish(ctx, parley.UserTopic(2), parley.MarshalEvent(parley.Event{
		Type: parley.EventLeave, ConversationID: conv, UserID: 2})); err != nil {
		t.Fatal(err)
	}
	if n := reg.Unregister(a1); n != 1 {
		t.Errorf("Unregister: %d left, want 1", n)
	}
	publish("three", "")
	check(a1)
	check(a2, "three")
	check(b1)

	// b joins again; a's last connection goes.
	if err := bus.Publish(ctx, parley.UserTopic(2), parley.MarshalEvent(parley.Event{
		Type: parley.EventJoin, ConversationID: conv, UserID: 2})); err != nil {
		t.Fatal(err)
	}
	reg.Unregister(a2)
	publish("four", "")
	check(a2)
	check(b1, "four")
	if reg.Conns() != 2 {
		t.Errorf("Conns = %d, want 2", reg.Conns())
	}
}

// TestConnLimit: Register enforces the per-user limit under its own lock:
// of many connections of one user registering at once, exactly the limit
// get in; one leaving makes room for one more; other users are not counted.
func TestConnLimit(t *testing.T) {
	bus := hub.NewBus()
	defer bus.Close()
	reg := hub.NewRegistry(bus, nil)
	reg.SetMaxConnsPerUser(3)
	conns := make([]*fakeConn, 40)
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = &fakeConn{id: fmt.Sprint("c", i), user: 1}
		wg.Go(func() { _, errs[i] = reg.Register(conns[i], []int64{7}) })
	}
	wg.Wait()
	var in []*fakeConn
	for i, err := range errs {
		switch {
		case err == nil:
			in = append(in, conns[i])
		case err != hub.ErrTooManyConns:
			t.Fatalf("Register: %v", err)
		}
	}
	if len(in) != 3 || reg.Count(1) != 3 || !reg.Full(1) {
		t.Fatalf("%d registered, count %d, full %v; want 3", len(in), reg.Count(1), reg.Full(1))
	}
	if _, err := reg.Register(&fakeConn{id: "other", user: 2}, nil); err != nil || reg.Full(2) {
		t.Fatalf("another user: %v", err)
	}
	reg.Unregister(in[0])
	if _, err := reg.Register(&fakeConn{id: "next", user: 1}, nil); err != nil {
		t.Fatalf("after one left: %v", err)
	}
	if _, err := reg.Register(&fakeConn{id: "late", user: 1}, nil); err != hub.ErrTooManyConns {
		t.Fatalf("past the limit again: %v", err)
	}
}
