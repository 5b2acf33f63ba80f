package hub_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"parley"
	"parley/hub"
)

// node is a registry on an in-process bus with one connection in
// conversation conv, and a way to publish message events to it.
type node struct {
	t    *testing.T
	bus  *hub.Bus
	reg  *hub.Registry
	conn *fakeConn
}

const conv = 5

func newNode(t *testing.T) *node {
	bus := hub.NewBus()
	t.Cleanup(func() { bus.Close() })
	n := &node{t: t, bus: bus, reg: hub.NewRegistry(bus, nil), conn: &fakeConn{id: "c1", user: 1}}
	if _, err := n.reg.Register(n.conn, []int64{conv}); err != nil {
		t.Fatal(err)
	}
	return n
}

// event publishes the message event with this mod (a new message when seq
// is set).
func (n *node) event(mod, seq int64) {
	n.t.Helper()
	err := n.bus.Publish(context.Background(), parley.ConversationTopic(conv), parley.MarshalEvent(parley.Event{
		Type: parley.EventFrame, ConversationID: conv, Seq: seq, Mod: mod, Frame: []byte(fmt.Sprintf("mod %d", mod))}))
	if err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) want(frames ...string) {
	n.t.Helper()
	if got := n.conn.take(); !slices.Equal(got, frames) {
		n.t.Errorf("delivered %q, want %q", got, frames)
	}
}

func head(seq, mod int64) parley.ConvHead {
	return parley.ConvHead{ID: conv, LastSeq: seq, LastMod: mod}
}

func missed(mods ...int64) []hub.Missed {
	var out []hub.Missed
	for _, m := range mods {
		out = append(out, hub.Missed{Mod: m, Seq: m, Frame: []byte(fmt.Sprintf("repaired %d", m))})
	}
	return out
}

// A message event reaches the connections once, whatever the order and
// repeats of the bus (a resend is announced again).
func TestTrackedEventsOnce(t *testing.T) {
	n := newNode(t)
	n.reg.Baseline([]parley.ConvHead{head(3, 3)})
	n.event(5, 5)
	n.event(4, 4)
	n.event(5, 5)
	n.event(2, 2)
	n.want("mod 5", "mod 4")
	// Events without a mod (receipts, typing) are not tracked.
	n.event(0, 0)
	n.event(0, 0)
	n.want("mod 0", "mod 0")
}

// Check asks for a repair only when what the store held at the previous
// check is still missing, from the last event delivered without a gap;
// Repair delivers what is missing, once, and takes the head as delivered;
// the bus then skips what was repaired.
func TestCheckAndRepair(t *testing.T) {
	n := newNode(t)
	n.reg.Baseline([]parley.ConvHead{head(10, 12)})
	if _, repair := n.reg.Check(head(10, 12)); repair {
		t.Fatal("repair asked for with nothing missing")
	}
	n.event(13, 11)
	n.event(15, 0) // an edit; 14 (a new message, seq 12) is lost
	n.want("mod 13", "mod 15")
	// The first check sees the store ahead: the bus may still deliver.
	if _, repair := n.reg.Check(head(12, 15)); repair {
		t.Fatal("repair asked for at the first sight of a gap")
	}
	from, repair := n.reg.Check(head(13, 16)) // 14 still missing; 16 new since
	if !repair || from.Seq != 11 || from.Mod != 13 {
		t.Fatalf("Check = %+v, %v; want a repair from seq 11, mod 13", from, repair)
	}
	if got := n.reg.Repair(from, head(13, 16), missed(14, 15, 16)); got != 2 {
		t.Errorf("Repair delivered %d events, want 2", got)
	}
	n.want("repaired 14", "repaired 16")
	n.event(16, 13) // the bus, late
	n.event(17, 14)
	n.want("mod 17")
	if _, repair := n.reg.Check(head(14, 17)); repair {
		t.Fatal("repair asked for once caught up")
	}
}

// A conversation that left the node (and came back) since Check is not
// repaired with the old mark.
func TestRepairStaleMark(t *testing.T) {
	n := newNode(t)
	n.reg.Baseline([]parley.ConvHead{head(1, 1)})
	n.reg.Check(head(3, 3))
	from, repair := n.reg.Check(head(3, 3))
	if !repair {
		t.Fatal("no repair asked for")
	}
	n.reg.Unregister(n.conn)
	if _, err := n.reg.Register(n.conn, []int64{conv}); err != nil {
		t.Fatal(err)
	}
	if got := n.reg.Repair(from, head(3, 3), missed(2, 3)); got != 0 {
		t.Errorf("Repair with a stale mark delivered %d", got)
	}
	n.want()
}

// A conversation joined while connected starts at the joiner's first event
// (its join message), so that losing that very event is repaired too; one
// with no starting point takes the store's head at the first check.
func TestJoinBaseline(t *testing.T) {
	n := newNode(t)
	if err := n.bus.Publish(context.Background(), parley.UserTopic(1), parley.MarshalEvent(parley.Event{
		Type: parley.EventJoin, ConversationID: 6, UserID: 1, Seq: 8, Mod: 9})); err != nil {
		t.Fatal(err)
	}
	h := parley.ConvHead{ID: 6, LastSeq: 8, LastMod: 9}
	n.reg.Check(h)
	from, repair := n.reg.Check(h)
	if !repair || from.Seq != 7 || from.Mod != 8 {
		t.Fatalf("Check after a lost join message = %+v, %v; want a repair from seq 7, mod 8", from, repair)
	}
	// Conversation conv has no starting point: the first check sets it.
	n.reg.Check(head(4, 4))
	if _, repair := n.reg.Check(head(4, 4)); repair {
		t.Fatal("repair asked for a conversation based at the check")
	}
	if ids := n.reg.TrackedIDs(nil); len(ids) != 2 {
		t.Errorf("TrackedIDs = %v, want 2", ids)
	}
}
