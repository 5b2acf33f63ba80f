package clustertest_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/client"
	"parley/clustertest"
	"parley/servertest"
)

// TestAcrossNodes: three nodes on one database and one NATS, people spread
// across them. Everything a person does on one node reaches the people
// concerned on the others: group fan-out, direct chats, every device of a
// user, edits and deletions, receipts, typing, presence.
func TestAcrossNodes(t *testing.T) {
	d := clustertest.New(t)
	nodes := d.StartN(t, 3)
	n1, n2, n3 := nodes[0].URL, nodes[1].URL, nodes[2].URL
	ctx := ctxT(t, 60*time.Second)

	alice := newPerson(t, n1, "alice")
	bob := newPerson(t, n2, "bob")
	carol := newPerson(t, n3, "carol")
	alice2 := alice.device(t, n3) // alice's second device, on another node

	g, err := alice.c.CreateGroup(ctx, "Climbing", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{bob, carol} {
		if _, _, err := p.c.JoinGroup(ctx, g.Code); err != nil {
			t.Fatalf("%s joins: %v", p.name, err)
		}
	}
	ab, _, err := bob.c.Direct(ctx, alice.name) // created on n2, seen from n1 and n3
	if err != nil {
		t.Fatal(err)
	}

	for _, p := range []*person{alice, bob, carol, alice2} {
		p.connect(t)
	}
	everyone := []*person{alice, bob, carol, alice2}
	for _, p := range everyone {
		if p.node() == "" {
			t.Fatalf("%s is not connected", p.name)
		}
	}
	if alice.node() != "n1" || bob.node() != "n2" || carol.node() != "n3" || alice2.node() != "n3" {
		t.Fatalf("sessions on %s %s %s %s, want n1 n2 n3 n3", alice.node(), bob.node(), carol.node(), alice2.node())
	}

	// Group fan-out: the three send at once; every session gets every
	// message, in the group's order, once.
	const each = 10
	var wg sync.WaitGroup
	for _, p := range []*person{alice, bob, carol} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := p.rt.Send(ctx, g.ID, fmt.Sprintf("%s says %d", p.name, i)); err != nil {
					t.Errorf("%s send: %v", p.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	hist := history(t, carol.c, g.ID)
	if texts := countText(hist); texts != 3*each {
		t.Fatalf("history holds %d text messages, want %d", texts, 3*each)
	}
	waitConverged(t, 10*time.Second, everyone, g.ID, hist)

	// A direct chat across nodes reaches the other person and every
	// device of the sender.
	m, err := alice2.rt.Send(ctx, ab.ID, "hi bob, from my phone")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{alice, bob, alice2} {
		servertest.WaitFor(t, 5*time.Second, func() bool { return p.rec.hasText(ab.ID, m.Text) }, "%s (%s) gets the direct message", p.name, p.node())
	}
	if carol.rec.hasText(ab.ID, m.Text) {
		t.Fatal("carol got a message of a chat she is not in")
	}

	// Receipts: bob's read mark on n2 reaches both of alice's devices.
	if _, err := bob.rt.Receipt(ctx, ab.ID, m.Seq, m.Seq); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{alice, alice2} {
		servertest.WaitFor(t, 5*time.Second, func() bool { return p.rec.hasReceipt(ab.ID, bob.user.ID, m.Seq, m.Seq) },
			"%s (%s) hears bob read up to %d", p.name, p.node(), m.Seq)
	}
	// In the group, a mark set on one node reaches the two others. The
	// reader must not be the last message's sender, whose marks moved
	// with the send already (no receipt event for that).
	last := hist[len(hist)-1]
	reader, others := carol, []*person{alice, bob}
	if last.SenderID == carol.user.ID {
		reader, others = bob, []*person{alice, carol}
	}
	if _, err := reader.rt.Receipt(ctx, g.ID, last.Seq, last.Seq); err != nil {
		t.Fatal(err)
	}
	for _, p := range others {
		servertest.WaitFor(t, 5*time.Second, func() bool { return p.rec.hasReceipt(g.ID, reader.user.ID, last.Seq, last.Seq) },
			"%s (%s) hears %s (%s) read the group up to %d", p.name, p.node(), reader.name, reader.node(), last.Seq)
	}

	// Typing on n3 reaches n1 and n2.
	if err := carol.rt.Typing(ctx, g.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{alice, bob, alice2} {
		servertest.WaitFor(t, 5*time.Second, func() bool { return p.rec.hasTyping(g.ID, carol.user.ID) }, "%s sees carol typing", p.name)
	}

	// Edits and deletions made on one node reach the others as changes.
	first := hist[len(hist)-3*each] // the first text message
	var author *person
	for _, p := range []*person{alice, bob, carol} {
		if p.user.ID == first.SenderID {
			author = p
		}
	}
	if _, err := author.rt.Edit(ctx, g.ID, first.Seq, "edited"); err != nil {
		t.Fatal(err)
	}
	// alice owns the group: she may delete anyone's message.
	if _, err := alice.rt.Delete(ctx, g.ID, first.Seq+1); err != nil {
		t.Fatal(err)
	}
	for _, p := range everyone {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			return p.rec.hasChange(g.ID, first.Seq, func(m parley.Message) bool { return m.Text == "edited" }) &&
				p.rec.hasChange(g.ID, first.Seq+1, func(m parley.Message) bool { return m.DeletedAt != nil })
		}, "%s sees the edit and the deletion", p.name)
	}

	// Presence: alice (n1) learns that bob (n2) and carol (n3) are online.
	for _, who := range []*person{bob, carol} {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			p, _, ok := alice.rec.lastPresence(who.user.ID, time.Time{})
			return ok && p.Online
		}, "alice sees %s online", who.name)
	}
	// dave comes online on n2 and goes offline: alice on n1 and her phone
	// on n3 see both, offline with last_seen, within the grace period.
	dave := newPerson(t, n2, "dave")
	if _, _, err := dave.c.Direct(ctx, alice.name); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	dave.connect(t)
	for _, p := range []*person{alice, alice2} {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			x, _, ok := p.rec.lastPresence(dave.user.ID, since)
			return ok && x.Online
		}, "%s sees dave online", p.name)
	}
	gone := time.Now()
	dave.rt.Close()
	for _, p := range []*person{alice, alice2} {
		servertest.WaitFor(t, 5*time.Second, func() bool {
			x, _, ok := p.rec.lastPresence(dave.user.ID, gone)
			return ok && !x.Online && x.LastSeen != nil
		}, "%s sees dave offline", p.name)
		_, at, _ := p.rec.lastPresence(dave.user.ID, gone)
		if took := at.Sub(gone); took < clustertest.Presence.OfflineGrace/2 {
			t.Errorf("%s saw dave offline %v after he left: before the grace period (%v)", p.name, took, clustertest.Presence.OfflineGrace)
		}
	}
	// The store has dave's last_seen too, for REST.
	servertest.WaitFor(t, 5*time.Second, func() bool {
		u, err := alice.c.User(ctx, dave.name)
		return err == nil && u.LastSeen != nil
	}, "dave's last_seen over REST")
}

func countText(msgs []parley.Message) int {
	n := 0
	for _, m := range msgs {
		if m.Kind == parley.MessageText {
			n++
		}
	}
	return n
}

// TestOfflineCatchUp: bob's device leaves n2 while alice, on n1, sends
// more than one sync can carry (parley.SyncPageSize); when it comes back,
// on n3, its sync brings the first page and says there is more, and the
// client pages the rest from history. Offline delivery is sync, whatever
// the node.
func TestOfflineCatchUp(t *testing.T) {
	d := clustertest.New(t)
	nodes := d.StartN(t, 3)
	ctx := ctxT(t, 60*time.Second)
	alice := newPerson(t, nodes[0].URL, "alice")
	bob := newPerson(t, nodes[1].URL, "bob")
	conv, _, err := alice.c.Direct(ctx, bob.name)
	if err != nil {
		t.Fatal(err)
	}
	bob.connect(t)
	if _, _, err := alice.c.Send(ctx, conv.ID, "c-first", "before you go"); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, 5*time.Second, func() bool { return len(bob.rec.messages(conv.ID)) == 1 }, "bob gets the first message")
	cursors := bob.rt.Cursors()
	held := bob.rec.messages(conv.ID)
	bob.rt.Close()

	const missed = parley.SyncPageSize + 50
	for i := range missed {
		if _, _, err := alice.c.Send(ctx, conv.ID, fmt.Sprintf("c-%d", i), fmt.Sprintf("while you were away %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	back := bob.device(t, nodes[2].URL)
	back.connect(t, client.WithCursors(cursors))
	hist := history(t, alice.c, conv.ID)
	if len(hist) != missed+1 {
		t.Fatalf("history holds %d messages, want %d", len(hist), missed+1)
	}
	// The new session starts where the old one stopped.
	waitConverged(t, 20*time.Second, []*person{back}, conv.ID, hist[len(held):])
}
