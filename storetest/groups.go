package storetest

import (
	"context"
	"strings"
	"testing"

	"parley"
)

// wantSystem checks a system message returned by a membership or group
// change: its kind, event, actor, sender and that it is the conversation's
// newest message, stored as returned.
func wantSystem(t *testing.T, s parley.Store, m parley.Message, event string, actor parley.User) {
	t.Helper()
	if m.Kind != parley.MessageSystem || m.System == nil || m.System.Event != event {
		t.Fatalf("system message = %+v (system %+v), want event %q", m, m.System, event)
	}
	if m.System.ActorID != actor.ID || m.SenderID != actor.ID {
		t.Fatalf("%s message: actor %d, sender %d, want %d", event, m.System.ActorID, m.SenderID, actor.ID)
	}
	same(t, event+" message sender", m.Sender, ref(actor))
	c := mustConversation(t, s, m.ConversationID)
	if m.Seq != c.LastSeq || m.Mod != c.LastMod {
		t.Fatalf("%s message seq/mod = %d/%d, conversation last_seq/last_mod = %d/%d", event, m.Seq, m.Mod, c.LastSeq, c.LastMod)
	}
	stored, err := s.Message(context.Background(), m.ConversationID, m.Seq)
	ok(t, err, "Message")
	same(t, event+" message as stored", stored, m)
}

func testCreateGroup(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")

	c, sys, err := s.CreateGroup(ctx, "Book club", "Books-1", alice.ID, at(0))
	ok(t, err, "CreateGroup")
	same(t, "new group", c, parley.Conversation{
		ID: c.ID, Kind: parley.KindGroup, Name: "Book club", Code: "Books-1",
		CreatedAt: norm(at(0)), LastSeq: 1, LastMod: sys.Mod, LastActivity: norm(at(0)), MemberCount: 1,
	})
	if c.ID == 0 || sys.Mod == 0 {
		t.Fatalf("CreateGroup: id %d, message mod %d; want both set", c.ID, sys.Mod)
	}
	wantSystem(t, s, sys, parley.SysCreated, alice)
	if sys.Seq != 1 || sys.ConversationID != c.ID {
		t.Fatalf("created message seq %d in %d, want 1 in %d", sys.Seq, sys.ConversationID, c.ID)
	}
	sameTime(t, "created message time", sys.CreatedAt, at(0))

	got, err := s.Conversation(ctx, c.ID)
	ok(t, err, "Conversation")
	same(t, "stored group", got, c)

	members, err := s.Members(ctx, c.ID)
	ok(t, err, "Members")
	owner := parley.Member{
		ConversationID: c.ID, UserID: alice.ID, Username: "alice", DisplayName: "Alice",
		Role: parley.RoleOwner, JoinedAt: norm(at(0)), DeliveredSeq: 1, ReadSeq: 1,
	}
	same(t, "members of a new group", members, []parley.Member{owner})
	same(t, "Member(owner)", mustMember(t, s, c.ID, alice.ID), owner)
	if !owner.CanModerate() {
		t.Fatal("owner cannot moderate")
	}

	_, err = s.Member(ctx, c.ID, bob.ID)
	wantCode(t, err, parley.ENOTFOUND, "Member(non-member)")
	_, err = s.Conversation(ctx, c.ID+1000)
	wantCode(t, err, parley.ENOTFOUND, "Conversation(unknown)")
	ms, err := s.Members(ctx, c.ID+1000)
	ok(t, err, "Members(unknown)")
	if len(ms) != 0 {
		t.Fatalf("Members(unknown) = %v", ms)
	}
}

func testGroupCodeUnique(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	c, _, err := s.CreateGroup(ctx, "Book club", "Books1", alice.ID, at(0))
	ok(t, err, "CreateGroup")

	for _, code := range []string{"Books1", "books1", "BOOKS1"} {
		_, _, err := s.CreateGroup(ctx, "Other", code, alice.ID, at(1))
		wantCode(t, err, parley.ECODETAKEN, "CreateGroup(code "+code+")")
	}
	ids, err := s.ConversationIDs(ctx, alice.ID)
	ok(t, err, "ConversationIDs")
	if len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("ConversationIDs after refused creations = %v, want [%d]", ids, c.ID)
	}

	for _, code := range []string{"Books1", "books1", "BOOKS1"} {
		got, err := s.GroupByCode(ctx, code)
		ok(t, err, "GroupByCode("+code+")")
		same(t, "GroupByCode("+code+")", got, c)
	}
	for _, code := range []string{"Books", "Books12", "nope"} {
		_, err := s.GroupByCode(ctx, code)
		wantCode(t, err, parley.EGROUPNOTFOUND, "GroupByCode("+code+")")
	}
}

func testAddMember(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	c, _, err := s.CreateGroup(ctx, "Book club", "books", alice.ID, at(0))
	ok(t, err, "CreateGroup")

	m, added, sys, err := s.AddMember(ctx, c.ID, bob.ID, 10, at(1))
	ok(t, err, "AddMember")
	if !added {
		t.Fatal("AddMember: added = false for a new member")
	}
	want := parley.Member{
		ConversationID: c.ID, UserID: bob.ID, Username: "bob", DisplayName: "Bob",
		Role: parley.RoleMember, JoinedAt: norm(at(1)), DeliveredSeq: 2, ReadSeq: 2,
	}
	same(t, "added member", m, want)
	if m.CanModerate() {
		t.Fatal("a plain member can moderate")
	}
	wantSystem(t, s, sys, parley.SysJoined, bob)
	if sys.Seq != 2 {
		t.Fatalf("joined message seq = %d, want 2", sys.Seq)
	}
	sameTime(t, "joined message time", sys.CreatedAt, at(1))

	// Adding again changes nothing and appends nothing.
	m, added, sys, err = s.AddMember(ctx, c.ID, bob.ID, 10, at(2))
	ok(t, err, "AddMember again")
	if added || sys.Seq != 0 {
		t.Fatalf("AddMember again: added %v, message seq %d; want false and no message", added, sys.Seq)
	}
	same(t, "member added again", m, want)

	got := mustConversation(t, s, c.ID)
	if got.MemberCount != 2 || got.LastSeq != 2 {
		t.Fatalf("after AddMember: member_count %d, last_seq %d; want 2, 2", got.MemberCount, got.LastSeq)
	}
	sameTime(t, "last activity", got.LastActivity, at(1))
	members, err := s.Members(ctx, c.ID)
	ok(t, err, "Members")
	if len(members) != 2 || members[0].UserID != alice.ID || members[1].UserID != bob.ID {
		t.Fatalf("Members = %+v, want alice then bob (join order)", members)
	}
	ids, err := s.ConversationIDs(ctx, bob.ID)
	ok(t, err, "ConversationIDs")
	if len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("bob's ConversationIDs = %v, want [%d]", ids, c.ID)
	}

	_, _, _, err = s.AddMember(ctx, c.ID+1000, bob.ID, 10, at(3))
	wantCode(t, err, parley.ENOTFOUND, "AddMember(unknown group)")
}

func testGroupFull(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	dave := MustUser(t, s, "dave")
	c := MustGroup(t, s, "Small", alice)

	for _, u := range []parley.User{bob, carol} {
		_, added, _, err := s.AddMember(ctx, c.ID, u.ID, 3, at(1))
		ok(t, err, "AddMember("+u.Username+")")
		if !added {
			t.Fatalf("AddMember(%s): not added", u.Username)
		}
	}
	before := mustConversation(t, s, c.ID)
	_, added, _, err := s.AddMember(ctx, c.ID, dave.ID, 3, at(2))
	wantCode(t, err, parley.EGROUPFULL, "AddMember to a full group")
	if added {
		t.Fatal("AddMember to a full group: added = true")
	}
	_, err = s.Member(ctx, c.ID, dave.ID)
	wantCode(t, err, parley.ENOTFOUND, "Member after EGROUPFULL")
	same(t, "full group after refused add", mustConversation(t, s, c.ID), before)

	// An existing member is still just returned.
	_, added, _, err = s.AddMember(ctx, c.ID, carol.ID, 3, at(3))
	ok(t, err, "AddMember of a member of a full group")
	if added {
		t.Fatal("AddMember of a member: added = true")
	}

	// A place freed is a place taken.
	_, err = s.RemoveMember(ctx, c.ID, bob.ID, bob.ID, at(4))
	ok(t, err, "RemoveMember")
	_, added, _, err = s.AddMember(ctx, c.ID, dave.ID, 3, at(5))
	ok(t, err, "AddMember after a member left")
	if !added {
		t.Fatal("AddMember after a member left: not added")
	}
}

func testRemoveMember(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	c := MustGroup(t, s, "Book club", alice, bob, carol)

	sys, err := s.RemoveMember(ctx, c.ID, bob.ID, bob.ID, at(1))
	ok(t, err, "RemoveMember(bob leaves)")
	wantSystem(t, s, sys, parley.SysLeft, bob)
	sameTime(t, "left message time", sys.CreatedAt, at(1))
	_, err = s.Member(ctx, c.ID, bob.ID)
	wantCode(t, err, parley.ENOTFOUND, "Member after leaving")

	sys, err = s.RemoveMember(ctx, c.ID, carol.ID, alice.ID, at(2))
	ok(t, err, "RemoveMember(alice removes carol)")
	wantSystem(t, s, sys, parley.SysRemoved, alice)
	if sys.System.TargetID != carol.ID {
		t.Fatalf("removed message target = %d, want carol %d", sys.System.TargetID, carol.ID)
	}

	_, err = s.RemoveMember(ctx, c.ID, carol.ID, alice.ID, at(3))
	wantCode(t, err, parley.ENOTFOUND, "RemoveMember of a non-member")
	_, err = s.RemoveMember(ctx, c.ID+1000, alice.ID, alice.ID, at(3))
	wantCode(t, err, parley.ENOTFOUND, "RemoveMember in an unknown conversation")

	got := mustConversation(t, s, c.ID)
	if got.MemberCount != 1 {
		t.Fatalf("member_count = %d, want 1", got.MemberCount)
	}
	for _, u := range []parley.User{bob, carol} {
		ids, err := s.ConversationIDs(ctx, u.ID)
		ok(t, err, "ConversationIDs")
		if len(ids) != 0 {
			t.Fatalf("%s's ConversationIDs after leaving = %v", u.Username, ids)
		}
		_, _, err = s.AppendMessage(ctx, parley.NewMessage{
			ConversationID: c.ID, SenderID: u.ID, ClientMsgID: "after-leaving",
			Kind: parley.MessageText, Text: "still here?", CreatedAt: at(4),
		})
		wantCode(t, err, parley.ENOTFOUND, "AppendMessage by a former member")
	}

	// A former member may join again.
	m, added, _, err := s.AddMember(ctx, c.ID, bob.ID, 10, at(5))
	ok(t, err, "AddMember of a former member")
	if !added || m.Role != parley.RoleMember {
		t.Fatalf("rejoin: added %v role %q, want true, member", added, m.Role)
	}
	sameTime(t, "rejoined at", m.JoinedAt, at(5))
}

func testOwnerLeaves(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	dave := MustUser(t, s, "dave")
	c, _, err := s.CreateGroup(ctx, "Club", "club", alice.ID, at(0))
	ok(t, err, "CreateGroup")
	for i, u := range []parley.User{bob, carol, dave} {
		_, _, _, err := s.AddMember(ctx, c.ID, u.ID, 10, at(1+i))
		ok(t, err, "AddMember")
	}
	// dave is made admin before carol, but carol joined earlier.
	for _, u := range []parley.User{dave, carol} {
		_, _, err := s.SetRole(ctx, c.ID, u.ID, parley.RoleAdmin, alice.ID, at(5))
		ok(t, err, "SetRole")
	}

	owner := func() parley.User {
		t.Helper()
		members, err := s.Members(ctx, c.ID)
		ok(t, err, "Members")
		var owners []int64
		for _, m := range members {
			if m.Role == parley.RoleOwner {
				owners = append(owners, m.UserID)
			}
		}
		if len(owners) != 1 {
			t.Fatalf("owners = %v, want exactly one", owners)
		}
		for _, u := range []parley.User{alice, bob, carol, dave} {
			if u.ID == owners[0] {
				return u
			}
		}
		t.Fatalf("owner %d is nobody known", owners[0])
		return parley.User{}
	}

	// Each owner leaves in turn: the longest-standing admin takes over, or
	// else the longest-standing member.
	for i, step := range []struct{ leaves, next parley.User }{
		{alice, carol},
		{carol, dave},
		{dave, bob},
	} {
		_, err := s.RemoveMember(ctx, c.ID, step.leaves.ID, step.leaves.ID, at(10+i))
		ok(t, err, "RemoveMember(owner leaves)")
		if got := owner(); got.ID != step.next.ID {
			t.Fatalf("after %s left, owner is %s, want %s", step.leaves.Username, got.Username, step.next.Username)
		}
	}
}

func testSetRole(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	c := MustGroup(t, s, "Club", alice, bob)

	m, sys, err := s.SetRole(ctx, c.ID, bob.ID, parley.RoleAdmin, alice.ID, at(1))
	ok(t, err, "SetRole(admin)")
	if m.UserID != bob.ID || m.Role != parley.RoleAdmin || !m.CanModerate() {
		t.Fatalf("SetRole returned %+v, want bob as admin", m)
	}
	same(t, "member after SetRole", mustMember(t, s, c.ID, bob.ID), m)
	wantSystem(t, s, sys, parley.SysRoleChanged, alice)
	if sys.System.TargetID != bob.ID || sys.System.Name != parley.RoleAdmin {
		t.Fatalf("role message = %+v, want target bob, name admin", sys.System)
	}

	m, _, err = s.SetRole(ctx, c.ID, bob.ID, parley.RoleMember, alice.ID, at(2))
	ok(t, err, "SetRole(member)")
	if m.Role != parley.RoleMember {
		t.Fatalf("role = %q, want member", m.Role)
	}

	before := mustConversation(t, s, c.ID)
	_, _, err = s.SetRole(ctx, c.ID, bob.ID, "emperor", alice.ID, at(3))
	wantCode(t, err, parley.EINVALID, "SetRole(unknown role)")
	_, _, err = s.SetRole(ctx, c.ID, carol.ID, parley.RoleAdmin, alice.ID, at(3))
	wantCode(t, err, parley.ENOTFOUND, "SetRole(non-member)")
	_, _, err = s.SetRole(ctx, c.ID, alice.ID, parley.RoleAdmin, alice.ID, at(3))
	wantCode(t, err, parley.EINVALID, "SetRole(demote the owner)")
	same(t, "group after refused role changes", mustConversation(t, s, c.ID), before)

	// Handing over ownership: the previous owner becomes admin.
	m, _, err = s.SetRole(ctx, c.ID, bob.ID, parley.RoleOwner, alice.ID, at(4))
	ok(t, err, "SetRole(owner)")
	if m.Role != parley.RoleOwner {
		t.Fatalf("new owner's role = %q", m.Role)
	}
	if prev := mustMember(t, s, c.ID, alice.ID); prev.Role != parley.RoleAdmin {
		t.Fatalf("previous owner's role = %q, want admin", prev.Role)
	}
}

func testRenameGroup(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	c := MustGroup(t, s, "Old name", alice)

	got, sys, err := s.RenameGroup(ctx, c.ID, "New name", alice.ID, at(1))
	ok(t, err, "RenameGroup")
	if got.Name != "New name" || got.LastSeq != sys.Seq || got.LastMod != sys.Mod {
		t.Fatalf("renamed group = %+v, want name %q, last_seq %d, last_mod %d", got, "New name", sys.Seq, sys.Mod)
	}
	same(t, "stored renamed group", mustConversation(t, s, c.ID), got)
	wantSystem(t, s, sys, parley.SysRenamed, alice)
	if sys.System.Name != "New name" {
		t.Fatalf("renamed message name = %q", sys.System.Name)
	}

	_, _, err = s.RenameGroup(ctx, c.ID+1000, "x", alice.ID, at(2))
	wantCode(t, err, parley.ENOTFOUND, "RenameGroup(unknown)")
}

func testSetCode(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	a, _, err := s.CreateGroup(ctx, "A", "alpha1", alice.ID, at(0))
	ok(t, err, "CreateGroup(A)")
	b, _, err := s.CreateGroup(ctx, "B", "beta22", alice.ID, at(0))
	ok(t, err, "CreateGroup(B)")

	_, _, err = s.SetCode(ctx, b.ID, "ALPHA1", alice.ID, at(1))
	wantCode(t, err, parley.ECODETAKEN, "SetCode(taken, other case)")
	same(t, "group after refused SetCode", mustConversation(t, s, b.ID), b)

	got, sys, err := s.SetCode(ctx, b.ID, "Gamma3", alice.ID, at(2))
	ok(t, err, "SetCode")
	if got.Code != "Gamma3" || got.LastSeq != sys.Seq {
		t.Fatalf("SetCode returned %+v, want code Gamma3 and last_seq %d", got, sys.Seq)
	}
	wantSystem(t, s, sys, parley.SysCodeRotated, alice)
	if strings.Contains(strings.ToLower(sys.Text+sys.System.Name), "gamma3") {
		t.Fatalf("code rotated message %+v contains the code", sys)
	}

	_, err = s.GroupByCode(ctx, "beta22")
	wantCode(t, err, parley.EGROUPNOTFOUND, "GroupByCode(old code)")
	found, err := s.GroupByCode(ctx, "gamma3")
	ok(t, err, "GroupByCode(new code)")
	if found.ID != b.ID {
		t.Fatalf("GroupByCode(new code) = %d, want %d", found.ID, b.ID)
	}

	// A group may take its own code in another case, and the old code
	// becomes free for others.
	got, _, err = s.SetCode(ctx, a.ID, "ALPHA1", alice.ID, at(3))
	ok(t, err, "SetCode(own code, other case)")
	if got.Code != "ALPHA1" {
		t.Fatalf("code = %q, want ALPHA1", got.Code)
	}
	_, _, err = s.SetCode(ctx, a.ID, "beta22", alice.ID, at(4))
	ok(t, err, "SetCode(freed code)")

	_, _, err = s.SetCode(ctx, a.ID+b.ID+1000, "delta4", alice.ID, at(5))
	wantCode(t, err, parley.ENOTFOUND, "SetCode(unknown)")
}

// testUnknownUser: a change naming a user who does not exist is ENOTFOUND
// and stores nothing.
func testUnknownUser(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	g := MustGroup(t, s, "Club", alice)
	nobody := alice.ID + 1000

	_, _, err := s.CreateGroup(ctx, "Ghost town", "ghosts", nobody, at(1))
	wantCode(t, err, parley.ENOTFOUND, "CreateGroup(unknown owner)")
	_, err = s.GroupByCode(ctx, "ghosts")
	wantCode(t, err, parley.EGROUPNOTFOUND, "GroupByCode after refused CreateGroup")

	_, _, _, err = s.AddMember(ctx, g.ID, nobody, 10, at(2))
	wantCode(t, err, parley.ENOTFOUND, "AddMember(unknown user)")
	same(t, "group after refused AddMember", mustConversation(t, s, g.ID), g)

	_, _, err = s.Direct(ctx, alice.ID, nobody, at(3))
	wantCode(t, err, parley.ENOTFOUND, "Direct(unknown user)")
	ids, err := s.ConversationIDs(ctx, alice.ID)
	ok(t, err, "ConversationIDs")
	if len(ids) != 1 {
		t.Fatalf("alice's conversations after refused Direct = %v, want only the group", ids)
	}
}
