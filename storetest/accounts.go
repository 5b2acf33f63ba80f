package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
)

func accountTests() []struct {
	name string
	fn   func(t *testing.T, s parley.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s parley.Store)
	}{
		{"Account/SetPassword", testSetPassword},
		{"Account/Delete", testDeleteUser},
		{"Account/DeleteRetiresUsername", testDeleteRetiresUsername},
		{"Account/Block", testBlock},
		{"Account/PruneRetiredUsernames", testPruneRetiredUsernames},
	}
}

func testSetPassword(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	one := newSession(t, s, alice, "one", at(0), 24*time.Hour)
	keep := newSession(t, s, alice, "keep", at(1), 24*time.Hour)
	three := newSession(t, s, alice, "three", at(2), 24*time.Hour)
	bobs := newSession(t, s, bob, "bob's", at(3), 24*time.Hour)

	deleted, err := s.SetPassword(ctx, alice.ID, "$new$hash", keep.ID)
	ok(t, err, "SetPassword")
	slices.Sort(deleted)
	if want := []int64{one.ID, three.ID}; !slices.Equal(deleted, want) {
		t.Fatalf("SetPassword deleted %v, want %v", deleted, want)
	}
	_, hash, err := s.UserByLogin(ctx, "alice")
	ok(t, err, "UserByLogin")
	if hash != "$new$hash" {
		t.Fatalf("hash after SetPassword = %q", hash)
	}
	list, err := s.Sessions(ctx, alice.ID, at(10))
	ok(t, err, "Sessions")
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Fatalf("alice's sessions after SetPassword = %+v, want only %d", list, keep.ID)
	}
	if _, bobHash, err := s.UserByLogin(ctx, "bob"); err != nil || bobHash == "$new$hash" {
		t.Fatalf("bob's hash = %q, %v: changed with alice's", bobHash, err)
	}

	// Keeping none ends every session.
	deleted, err = s.SetPassword(ctx, alice.ID, "$newer$hash", 0)
	ok(t, err, "SetPassword keeping none")
	if !slices.Equal(deleted, []int64{keep.ID}) {
		t.Fatalf("SetPassword keeping none deleted %v, want [%d]", deleted, keep.ID)
	}
	list, err = s.Sessions(ctx, bob.ID, at(10))
	ok(t, err, "Sessions(bob)")
	if len(list) != 1 || list[0].ID != bobs.ID {
		t.Fatalf("bob's sessions = %+v, want his one", list)
	}

	_, err = s.SetPassword(ctx, 1<<40, "$x$", 0)
	wantCode(t, err, parley.ENOTFOUND, "SetPassword of no user")
}

func testDeleteUser(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob, carol)
	other := MustGroup(t, s, "Other", bob, alice)
	d := MustDirect(t, s, alice, bob)
	said := MustSend(t, s, g.ID, alice, "hello club")
	MustSend(t, s, d.ID, alice, "hello bob")
	newSession(t, s, alice, "alice's", at(0), 24*time.Hour)

	msgs, err := s.DeleteUser(ctx, alice.ID, time.Now().Add(time.Hour), at(10))
	ok(t, err, "DeleteUser")
	if len(msgs) != 2 {
		t.Fatalf("DeleteUser appended %d messages, want a SysLeft in each of 2 groups", len(msgs))
	}
	for _, m := range msgs {
		if m.System == nil || m.System.Event != parley.SysLeft || m.System.TargetID != alice.ID || (m.ConversationID != g.ID && m.ConversationID != other.ID) {
			t.Fatalf("DeleteUser appended %+v", m)
		}
	}

	// The groups: alice is gone, bob (the longest-standing member) owns Club.
	for _, id := range []int64{g.ID, other.ID} {
		if _, err := s.Member(ctx, id, alice.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("alice still a member of %d: %v", id, err)
		}
	}
	if m := mustMember(t, s, g.ID, bob.ID); m.Role != parley.RoleOwner {
		t.Fatalf("bob's role in Club after the owner's deletion = %q, want owner", m.Role)
	}
	if c := mustConversation(t, s, g.ID); c.MemberCount != 2 {
		t.Fatalf("Club has %d members, want 2", c.MemberCount)
	}

	// The account: kept for its messages, with nothing of the person.
	u, err := s.User(ctx, alice.ID)
	ok(t, err, "User")
	if !u.Deleted || u.Username != fmt.Sprintf("~%d", alice.ID) || u.DisplayName != parley.DeletedName || u.Email != "" || u.AcceptingMessages || u.LastSeen != nil {
		t.Fatalf("deleted user = %+v", u)
	}
	if _, err := s.UserByUsername(ctx, "alice"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("UserByUsername(alice) after deletion: %v", err)
	}
	if _, err := s.UserByUsername(ctx, u.Username); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("UserByUsername(%s): %v", u.Username, err)
	}
	for _, login := range []string{"alice", "alice@example.com", u.Username} {
		if _, _, err := s.UserByLogin(ctx, login); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("UserByLogin(%q) after deletion: %v", login, err)
		}
	}
	if found, err := s.SearchUsers(ctx, "", 50); err != nil || slices.Contains(ids(found), u.Username) {
		t.Fatalf("SearchUsers finds the deleted account: %v %v", ids(found), err)
	}
	list, err := s.Sessions(ctx, alice.ID, at(1))
	ok(t, err, "Sessions")
	if len(list) != 0 {
		t.Fatalf("a deleted account keeps %d sessions", len(list))
	}

	// Its messages stay, from the deleted account.
	m, err := s.Message(ctx, g.ID, said.Seq)
	ok(t, err, "Message")
	if m.Text != "hello club" || m.Sender == nil || m.Sender.DisplayName != parley.DeletedName || !parley.IsDeletedUsername(m.Sender.Username) {
		t.Fatalf("message of the deleted account = %+v (sender %+v)", m, m.Sender)
	}
	// The direct chat stays, read-only.
	sums, err := s.Conversations(ctx, bob.ID)
	ok(t, err, "Conversations")
	found := false
	for _, c := range sums {
		if c.ID == d.ID {
			found = true
			if c.Peer == nil || !c.Peer.Deleted || c.Peer.DisplayName != parley.DeletedName || c.Peer.AcceptingMessages {
				t.Fatalf("bob's direct chat with the deleted account: peer %+v", c.Peer)
			}
		}
	}
	if !found {
		t.Fatal("bob's direct chat with the deleted account is gone")
	}
	_, _, err = s.AppendMessage(ctx, parley.NewMessage{ConversationID: d.ID, SenderID: bob.ID, ClientMsgID: "after",
		Kind: parley.MessageText, Text: "are you there?", CreatedAt: at(11)})
	wantCode(t, err, parley.ENOTACCEPTING, "a message to a deleted account")

	_, err = s.DeleteUser(ctx, alice.ID, time.Now().Add(time.Hour), at(12))
	wantCode(t, err, parley.ENOTFOUND, "DeleteUser again")
	_, err = s.DeleteUser(ctx, 1<<40, time.Now(), at(12))
	wantCode(t, err, parley.ENOTFOUND, "DeleteUser of no user")
}

func testDeleteRetiresUsername(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	_, err := s.DeleteUser(ctx, alice.ID, time.Now().Add(time.Hour), time.Now())
	ok(t, err, "DeleteUser(alice)")
	again := parley.User{Username: "alice", Email: "new-alice@example.com", DisplayName: "A", AcceptingMessages: true}
	wantCode(t, s.CreateUser(ctx, &again, "h"), parley.EUSERNAMETAKEN, "CreateUser(alice) while retired")
	// The email is free at once.
	other := parley.User{Username: "alicia", Email: "alice@example.com", DisplayName: "A", AcceptingMessages: true}
	ok(t, s.CreateUser(ctx, &other, "h"), "CreateUser with the deleted account's email")

	// Once the retirement is over, the name is free.
	_, err = s.DeleteUser(ctx, bob.ID, time.Now().Add(-time.Second), time.Now())
	ok(t, err, "DeleteUser(bob)")
	nb := parley.User{Username: "bob", Email: "bob2@example.com", DisplayName: "B", AcceptingMessages: true}
	ok(t, s.CreateUser(ctx, &nb, "h"), "CreateUser(bob) after the retirement")
	if nb.ID == bob.ID {
		t.Fatal("the new bob got the deleted bob's id")
	}
	got, err := s.UserByUsername(ctx, "bob")
	ok(t, err, "UserByUsername(bob)")
	if got.ID != nb.ID || got.Deleted {
		t.Fatalf("UserByUsername(bob) = %+v, want the new bob", got)
	}
}

func testBlock(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	d := MustDirect(t, s, alice, bob)
	g := MustGroup(t, s, "Club", alice, bob)
	// A send before the block: a store that caches alice has her now.
	MustSend(t, s, d.ID, bob, "hi alice")

	ok(t, s.Block(ctx, alice.ID, bob.ID, at(1)), "Block")
	ok(t, s.Block(ctx, alice.ID, bob.ID, at(2)), "Block again")
	send := func(from parley.User, conv int64) error {
		_, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: conv, SenderID: from.ID,
			ClientMsgID: fmt.Sprintf("c%d", next()), Kind: parley.MessageText, Text: "hello", CreatedAt: at(3)})
		return err
	}
	wantCode(t, send(bob, d.ID), parley.ENOTACCEPTING, "bob's message to alice, who blocks him")
	ok(t, send(alice, d.ID), "alice's message to bob, whom she blocks")
	ok(t, send(bob, g.ID), "bob's message in a group with alice")
	MustSend(t, s, MustDirect(t, s, bob, carol).ID, bob, "hi carol")

	if b, err := s.Blocked(ctx, alice.ID, bob.ID); err != nil || !b {
		t.Fatalf("Blocked(alice, bob) = %v, %v", b, err)
	}
	if b, err := s.Blocked(ctx, bob.ID, alice.ID); err != nil || b {
		t.Fatalf("Blocked(bob, alice) = %v, %v", b, err)
	}
	ok(t, s.Block(ctx, alice.ID, carol.ID, at(4)), "Block carol")
	list, err := s.Blocks(ctx, alice.ID)
	ok(t, err, "Blocks")
	if got := ids(list); !slices.Equal(got, []string{"bob", "carol"}) {
		t.Fatalf("Blocks(alice) = %v, want bob, carol", got)
	}
	if list[0].Email != "" && list[0].Email != "bob@example.com" {
		t.Fatalf("Blocks(alice)[0] = %+v", list[0])
	}
	list, err = s.Blocks(ctx, bob.ID)
	ok(t, err, "Blocks(bob)")
	if len(list) != 0 {
		t.Fatalf("Blocks(bob) = %v, want none", ids(list))
	}

	ok(t, s.Unblock(ctx, alice.ID, bob.ID), "Unblock")
	ok(t, s.Unblock(ctx, alice.ID, bob.ID), "Unblock again")
	ok(t, send(bob, d.ID), "bob's message once unblocked")
	wantCode(t, s.Block(ctx, alice.ID, 1<<40, at(5)), parley.ENOTFOUND, "Block of no user")
}

func testPruneRetiredUsernames(t *testing.T, s parley.Store) {
	ctx := context.Background()
	now := time.Now()
	for i, name := range []string{"ann", "ben", "cat"} {
		u := MustUser(t, s, name)
		// ann's and ben's retirements are over, cat's is not.
		_, err := s.DeleteUser(ctx, u.ID, now.Add(time.Duration(i-2)*time.Hour+time.Minute), now)
		ok(t, err, "DeleteUser")
	}
	n, err := s.PruneRetiredUsernames(ctx, now, 1)
	ok(t, err, "PruneRetiredUsernames")
	if n != 1 {
		t.Fatalf("PruneRetiredUsernames(limit 1) = %d", n)
	}
	n, err = s.PruneRetiredUsernames(ctx, now, 10)
	ok(t, err, "PruneRetiredUsernames again")
	if n != 1 {
		t.Fatalf("PruneRetiredUsernames, second batch = %d, want 1", n)
	}
	n, err = s.PruneRetiredUsernames(ctx, now, 10)
	ok(t, err, "PruneRetiredUsernames with nothing to do")
	if n != 0 {
		t.Fatalf("PruneRetiredUsernames with nothing to do = %d", n)
	}
	// cat's name is still retired; ann's is free.
	cat := parley.User{Username: "cat", Email: "cat2@example.com", DisplayName: "C", AcceptingMessages: true}
	wantCode(t, s.CreateUser(ctx, &cat, "h"), parley.EUSERNAMETAKEN, "CreateUser(cat) while retired")
	ann := parley.User{Username: "ann", Email: "ann2@example.com", DisplayName: "A", AcceptingMessages: true}
	ok(t, s.CreateUser(ctx, &ann, "h"), "CreateUser(ann)")
}
