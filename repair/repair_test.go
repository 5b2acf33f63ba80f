package repair_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/hub"
	"parley/repair"
	"parley/service"
	"parley/sqlite"
	"parley/storetest"
)

// conn records what the registry delivers to it.
type conn struct {
	id     string
	user   int64
	mu     sync.Mutex
	frames []map[string]any
	closed int
}

func (c *conn) ID() string       { return c.id }
func (c *conn) UserID() int64    { return c.user }
func (c *conn) SessionID() int64 { return 1 }
func (c *conn) CloseWith(code int, _ string) {
	c.mu.Lock()
	c.closed = code
	c.mu.Unlock()
}
func (c *conn) Deliver(d *hub.Delivery) {
	var m map[string]any
	json.Unmarshal(d.Frame, &m)
	c.mu.Lock()
	c.frames = append(c.frames, m)
	c.mu.Unlock()
}

// take returns the events delivered since the last call, as "ev change
// text" strings.
func (c *conn) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, f := range c.frames {
		switch f["ev"] {
		case "message":
			m := f["message"].(map[string]any)
			out = append(out, fmt.Sprintf("%s %v", f["change"], m["text"]))
		default:
			out = append(out, fmt.Sprintf("%v %v", f["ev"], f["user_id"]))
		}
	}
	c.frames = nil
	return out
}

// fixture is a node's parts on SQLite (its in-process bus loses nothing:
// what the test stores without the service announcing it plays what a bus
// lost).
type fixture struct {
	store parley.Store
	svc   *service.Service
	reg   *hub.Registry
	rep   *repair.Repairer
}

func newFixture(t *testing.T, cfg service.Config) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := hub.NewBus()
	t.Cleanup(func() { bus.Close() })
	cfg.Hash = service.HashParams{Memory: 8 * 1024, Time: 1}
	svc, err := service.New(st, bus, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := hub.NewRegistry(bus, nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &fixture{store: st, svc: svc, reg: reg, rep: repair.New(reg, svc, time.Second, quiet)}
}

// connect registers a connection of u as ws does: heads first.
func (f *fixture) connect(t *testing.T, u parley.User) *conn {
	t.Helper()
	heads, err := f.svc.UserHeads(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(heads))
	for i, h := range heads {
		ids[i] = h.ID
	}
	c := &conn{id: u.Username, user: u.ID}
	if _, err := f.reg.Register(c, ids); err != nil {
		t.Fatal(err)
	}
	f.reg.Baseline(heads)
	return c
}

// lost stores a message without announcing it.
func (f *fixture) lost(t *testing.T, conv int64, u parley.User, text string) parley.Message {
	t.Helper()
	return storetest.MustSend(t, f.store, conv, u, text)
}

func want(t *testing.T, c *conn, events ...string) {
	t.Helper()
	got := c.take()
	if fmt.Sprint(got) != fmt.Sprint(events) {
		t.Errorf("%s got %q, want %q", c.id, got, events)
	}
}

// Events the bus lost are delivered at the second check that sees them
// missing, in order, once, with the members' marks; what the bus did
// deliver is not delivered again; edits and deletions lost are delivered
// as changes.
func TestPassRepairs(t *testing.T) {
	f := newFixture(t, service.Config{})
	ctx := t.Context()
	alice := storetest.MustUser(t, f.store, "alice")
	bob := storetest.MustUser(t, f.store, "bob")
	g := storetest.MustGroup(t, f.store, "G", alice, bob)
	c := f.connect(t, bob)

	lost1 := f.lost(t, g.ID, alice, "lost 1")
	if _, _, err := f.svc.Send(ctx, alice.ID, g.ID, "announced-1", "announced"); err != nil {
		t.Fatal(err)
	}
	lost3 := f.lost(t, g.ID, alice, "lost 3")
	want(t, c, "new announced")
	f.rep.Pass(ctx, nil)
	want(t, c) // the bus may still be delivering
	f.rep.Pass(ctx, nil)
	want(t, c, "new lost 1", "new lost 3", "receipt "+fmt.Sprint(alice.ID), "receipt "+fmt.Sprint(bob.ID))

	if _, err := f.store.EditMessage(ctx, g.ID, lost3.Seq, alice.ID, "lost 3, edited", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DeleteMessage(ctx, g.ID, lost1.Seq, alice.ID, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.lost(t, g.ID, alice, "new again")
	f.rep.Pass(ctx, nil)
	// Events were lost a check ago: the marks of a conversation that moved
	// are sent again, in case receipts were lost too.
	want(t, c, "receipt "+fmt.Sprint(alice.ID), "receipt "+fmt.Sprint(bob.ID))
	f.rep.Pass(ctx, nil)
	want(t, c, "edited lost 3, edited", "deleted ", "new new again", "receipt "+fmt.Sprint(alice.ID), "receipt "+fmt.Sprint(bob.ID))
	f.rep.Pass(ctx, nil)
	want(t, c) // nothing more: caught up
	if st := f.rep.Stats(); st.Events != 5 || st.Resyncs != 0 {
		t.Errorf("stats %+v, want 5 events repaired", st)
	}
}

// A conversation that lost more than repair.Limit events is not repaired
// event by event: its local connections are asked to resync (1001).
func TestPassResyncsBeyondLimit(t *testing.T) {
	f := newFixture(t, service.Config{})
	alice := storetest.MustUser(t, f.store, "alice")
	bob := storetest.MustUser(t, f.store, "bob")
	g := storetest.MustGroup(t, f.store, "G", alice, bob)
	c := f.connect(t, bob)
	for i := range repair.Limit + 1 {
		f.lost(t, g.ID, alice, fmt.Sprint("lost ", i))
	}
	f.rep.Pass(t.Context(), nil)
	f.rep.Pass(t.Context(), nil)
	want(t, c)
	if c.closed != repair.CloseResync {
		t.Errorf("connection closed with %d, want %d", c.closed, repair.CloseResync)
	}
}

// In a group above LargeGroup members, marks go only to each member's own
// devices, as receipts do.
func TestPassLargeGroupMarks(t *testing.T) {
	f := newFixture(t, service.Config{LargeGroup: 2})
	alice := storetest.MustUser(t, f.store, "alice")
	bob := storetest.MustUser(t, f.store, "bob")
	carol := storetest.MustUser(t, f.store, "carol")
	g := storetest.MustGroup(t, f.store, "Big", alice, bob, carol)
	c := f.connect(t, bob)
	f.lost(t, g.ID, alice, "lost")
	f.rep.Pass(context.Background(), nil)
	f.rep.Pass(context.Background(), nil)
	want(t, c, "new lost", "receipt "+fmt.Sprint(bob.ID))
}

// A member whose removal event the bus lost gets nothing of what is
// repaired, and no more events of the conversation.
func TestPassStopsRemovedMember(t *testing.T) {
	f := newFixture(t, service.Config{})
	ctx := t.Context()
	alice := storetest.MustUser(t, f.store, "alice")
	bob := storetest.MustUser(t, f.store, "bob")
	carol := storetest.MustUser(t, f.store, "carol")
	g := storetest.MustGroup(t, f.store, "G", alice, bob, carol)
	b, c := f.connect(t, bob), f.connect(t, carol)
	if _, err := f.store.RemoveMember(ctx, g.ID, carol.ID, alice.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.lost(t, g.ID, alice, "after carol left")
	f.rep.Pass(ctx, nil)
	f.rep.Pass(ctx, nil)
	if got := b.take(); len(got) < 2 || got[1] != "new after carol left" { // the removal's system message, then this
		t.Errorf("bob got %q", got)
	}
	want(t, c)
	if _, _, err := f.svc.Send(ctx, alice.ID, g.ID, "later-1", "later"); err != nil {
		t.Fatal(err)
	}
	want(t, c)
}

// More lost messages than one page are repaired in full, in order.
func TestPassRepairsPages(t *testing.T) {
	f := newFixture(t, service.Config{})
	alice := storetest.MustUser(t, f.store, "alice")
	bob := storetest.MustUser(t, f.store, "bob")
	g := storetest.MustGroup(t, f.store, "G", alice, bob)
	c := f.connect(t, bob)
	const n = 2*parley.SyncPageSize + 50
	var events []string
	for i := range n {
		f.lost(t, g.ID, alice, fmt.Sprint("lost ", i))
		events = append(events, fmt.Sprint("new lost ", i))
	}
	f.rep.Pass(t.Context(), nil)
	f.rep.Pass(t.Context(), nil)
	want(t, c, append(events, "receipt "+fmt.Sprint(alice.ID), "receipt "+fmt.Sprint(bob.ID))...)
}
