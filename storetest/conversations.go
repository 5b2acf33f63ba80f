package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"parley"
)

func testDirect(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")

	c, created, err := s.Direct(ctx, alice.ID, bob.ID, at(0))
	ok(t, err, "Direct")
	if !created {
		t.Fatal("Direct: created = false for a new pair")
	}
	same(t, "new direct conversation", c, parley.Conversation{
		ID: c.ID, Kind: parley.KindDirect, CreatedAt: norm(at(0)), LastActivity: norm(at(0)), MemberCount: 2,
	})
	same(t, "stored direct conversation", mustConversation(t, s, c.ID), c)

	members, err := s.Members(ctx, c.ID)
	ok(t, err, "Members")
	if len(members) != 2 {
		t.Fatalf("direct members = %+v, want 2", members)
	}
	got := []int64{members[0].UserID, members[1].UserID}
	slices.Sort(got)
	if want := []int64{alice.ID, bob.ID}; !slices.Equal(got, want) {
		t.Fatalf("direct members = %v, want %v", got, want)
	}
	for _, m := range members {
		if m.Role != parley.RoleMember || m.ReadSeq != 0 || m.DeliveredSeq != 0 {
			t.Fatalf("direct member %+v, want role member and no marks", m)
		}
		sameTime(t, "joined at", m.JoinedAt, at(0))
	}

	again, created, err := s.Direct(ctx, bob.ID, alice.ID, at(1))
	ok(t, err, "Direct(reversed)")
	if created || again.ID != c.ID {
		t.Fatalf("Direct(reversed) = %d created %v, want %d, false", again.ID, created, c.ID)
	}
	same(t, "direct conversation found again", again, c)

	other, created, err := s.Direct(ctx, alice.ID, carol.ID, at(2))
	ok(t, err, "Direct(alice, carol)")
	if !created || other.ID == c.ID {
		t.Fatalf("Direct(alice, carol) = %d created %v, want a new conversation", other.ID, created)
	}

	// A direct conversation has no join code.
	_, err = s.GroupByCode(ctx, "")
	wantCode(t, err, parley.EGROUPNOTFOUND, "GroupByCode(\"\")")
}

func testDirectConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")

	const n = 20
	type result struct {
		id      int64
		created bool
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, b := alice.ID, bob.ID
			if i%2 == 1 {
				a, b = b, a
			}
			c, created, err := s.Direct(ctx, a, b, at(i))
			results[i] = result{c.ID, created, err}
		})
	}
	wg.Wait()

	createdCount := 0
	for i, r := range results {
		ok(t, r.err, "concurrent Direct")
		if r.id != results[0].id {
			t.Fatalf("call %d got conversation %d, call 0 got %d", i, r.id, results[0].id)
		}
		if r.created {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Fatalf("%d calls reported created, want 1", createdCount)
	}
	ids, err := s.ConversationIDs(ctx, alice.ID)
	ok(t, err, "ConversationIDs")
	if len(ids) != 1 {
		t.Fatalf("alice has conversations %v, want one", ids)
	}
	if c := mustConversation(t, s, results[0].id); c.MemberCount != 2 {
		t.Fatalf("member_count = %d, want 2", c.MemberCount)
	}
}

func testConversations(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")

	list, err := s.Conversations(ctx, alice.ID)
	ok(t, err, "Conversations(none)")
	if len(list) != 0 {
		t.Fatalf("Conversations of a new user = %+v", list)
	}

	d, _, err := s.Direct(ctx, alice.ID, bob.ID, at(0))
	ok(t, err, "Direct")
	g, _, err := s.CreateGroup(ctx, "Club", "club", alice.ID, at(1))
	ok(t, err, "CreateGroup")
	for _, u := range []parley.User{bob, carol} {
		_, _, _, err := s.AddMember(ctx, g.ID, u.ID, 10, at(2))
		ok(t, err, "AddMember")
	}
	MustSendAt(t, s, d.ID, bob, "hi", at(3))
	last := MustSendAt(t, s, d.ID, bob, "there", at(4))
	gLast := MustSendAt(t, s, g.ID, carol, "hello club", at(5))

	list, err = s.Conversations(ctx, alice.ID)
	ok(t, err, "Conversations")
	if len(list) != 2 || list[0].ID != g.ID || list[1].ID != d.ID {
		t.Fatalf("Conversations = %v, want group %d then direct %d (newest activity first)", summaryIDs(list), g.ID, d.ID)
	}

	gs := list[0]
	same(t, "group row", gs.Conversation, mustConversation(t, s, g.ID))
	if gs.Kind != parley.KindGroup || gs.Role != parley.RoleOwner || gs.MemberCount != 3 || gs.Peer != nil {
		t.Fatalf("group row = %+v, want group, owner, 3 members, no peer", gs)
	}
	sameTime(t, "group last activity", gs.LastActivity, at(5))
	// alice read up to her own "created" message; two joins and one
	// message came after.
	if gs.ReadSeq != 1 || gs.DeliveredSeq != 1 || gs.Unread != gs.LastSeq-gs.ReadSeq || gs.Unread != 3 {
		t.Fatalf("group row marks: read %d delivered %d unread %d last_seq %d; want 1, 1, 3, 4", gs.ReadSeq, gs.DeliveredSeq, gs.Unread, gs.LastSeq)
	}
	same(t, "group last message", gs.LastMessage, &gLast)

	ds := list[1]
	same(t, "direct row", ds.Conversation, mustConversation(t, s, d.ID))
	if ds.Kind != parley.KindDirect || ds.Role != parley.RoleMember || ds.MemberCount != 2 {
		t.Fatalf("direct row = %+v", ds)
	}
	if ds.LastSeq != 2 || ds.ReadSeq != 0 || ds.Unread != 2 {
		t.Fatalf("direct row: last_seq %d read %d unread %d; want 2, 0, 2", ds.LastSeq, ds.ReadSeq, ds.Unread)
	}
	same(t, "direct last message", ds.LastMessage, &last)
	wantPeer := mustUser(t, s, bob.ID).Public()
	same(t, "direct peer (without email)", ds.Peer, &wantPeer)

	// Reading moves unread; alice's own message moves the direct chat up.
	_, _, err = s.SetMarks(ctx, d.ID, alice.ID, 2, 1, at(10), 100)
	ok(t, err, "SetMarks")
	list, err = s.Conversations(ctx, alice.ID)
	ok(t, err, "Conversations")
	if list[1].Unread != 1 || list[1].ReadSeq != 1 || list[1].DeliveredSeq != 2 {
		t.Fatalf("direct row after SetMarks: unread %d read %d delivered %d; want 1, 1, 2", list[1].Unread, list[1].ReadSeq, list[1].DeliveredSeq)
	}
	reply := MustSendAt(t, s, d.ID, alice, "hey", at(6))
	list, err = s.Conversations(ctx, alice.ID)
	ok(t, err, "Conversations")
	if list[0].ID != d.ID || list[0].Unread != 0 {
		t.Fatalf("after alice's reply: first row %d unread %d, want direct %d with 0 unread", list[0].ID, list[0].Unread, d.ID)
	}
	same(t, "last message after reply", list[0].LastMessage, &reply)

	// bob sees alice as the peer, and a conversation with no message yet
	// has no last message.
	list, err = s.Conversations(ctx, bob.ID)
	ok(t, err, "Conversations(bob)")
	if len(list) != 2 || list[0].ID != d.ID {
		t.Fatalf("bob's conversations = %v", summaryIDs(list))
	}
	wantPeer = mustUser(t, s, alice.ID).Public()
	same(t, "bob's peer", list[0].Peer, &wantPeer)
	e, _, err := s.Direct(ctx, carol.ID, bob.ID, at(7))
	ok(t, err, "Direct(carol, bob)")
	list, err = s.Conversations(ctx, carol.ID)
	ok(t, err, "Conversations(carol)")
	if len(list) != 2 || list[0].ID != e.ID || list[0].LastMessage != nil || list[0].Unread != 0 {
		t.Fatalf("carol's conversations = %+v, want the empty direct chat first, without last message", list)
	}
}

func summaryIDs(list []parley.ConversationSummary) []int64 {
	out := make([]int64, len(list))
	for i, c := range list {
		out[i] = c.ID
	}
	return out
}

func mustUser(t *testing.T, s parley.Store, id int64) parley.User {
	t.Helper()
	u, err := s.User(context.Background(), id)
	ok(t, err, "User")
	return u
}

func testConversationIDs(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	d := MustDirect(t, s, alice, bob)
	g := MustGroup(t, s, "Club", alice, carol)
	MustGroup(t, s, "Other", bob, carol)

	got, err := s.ConversationIDs(ctx, alice.ID)
	ok(t, err, "ConversationIDs")
	slices.Sort(got)
	if want := []int64{d.ID, g.ID}; !slices.Equal(got, want) {
		t.Fatalf("ConversationIDs(alice) = %v, want %v", got, want)
	}
	got, err = s.ConversationIDs(ctx, MustUser(t, s, "dave").ID)
	ok(t, err, "ConversationIDs(dave)")
	if len(got) != 0 {
		t.Fatalf("ConversationIDs(dave) = %v, want none", got)
	}
}

func testContacts(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	dave := MustUser(t, s, "dave")
	erin := MustUser(t, s, "erin")
	frank := MustUser(t, s, "frank")
	MustDirect(t, s, alice, bob)
	MustGroup(t, s, "Small", alice, carol, bob)       // 3 members
	MustGroup(t, s, "Large", alice, dave, erin, bob)  // 4 members
	MustGroup(t, s, "Not alice's", frank, dave, erin) // 3 members

	for _, c := range []struct {
		user     parley.User
		maxGroup int
		want     []int64
	}{
		{alice, 2, []int64{bob.ID}},
		{alice, 3, []int64{bob.ID, carol.ID}},
		{alice, 4, []int64{bob.ID, carol.ID, dave.ID, erin.ID}},
		{bob, 3, []int64{alice.ID, carol.ID}},
		{frank, 2, []int64{}},
		{frank, 3, []int64{dave.ID, erin.ID}},
	} {
		got, err := s.Contacts(ctx, c.user.ID, c.maxGroup)
		ok(t, err, "Contacts")
		slices.Sort(got)
		if got == nil {
			got = []int64{}
		}
		if !slices.Equal(got, c.want) {
			t.Fatalf("Contacts(%s, %d) = %v, want %v", c.user.Username, c.maxGroup, got, c.want)
		}
	}
}
