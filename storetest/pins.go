package storetest

import (
	"context"
	"fmt"
	"testing"

	"parley"
)

// Pinned messages and each person's chat list settings.

func pinTests() []struct {
	name string
	fn   func(*testing.T, parley.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, parley.Store)
	}{
		{"Pin/Roles", testPinRoles},
		{"Pin/Toggle", testPinToggle},
		{"Pin/Limit", testPinLimit},
		{"ChatList/Set", testChatListSet},
		{"ChatList/Limit", testChatListLimit},
	}
}

func pinSeqs(pins []parley.Pin) []int64 {
	out := []int64{}
	for _, p := range pins {
		out = append(out, p.Seq)
	}
	return out
}

// In a group only admins pin; in a direct chat either person; strangers
// and removed members get not_found.
func testPinRoles(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob)
	m := MustSend(t, s, g.ID, bob, "meet at 8")

	_, _, err := s.Pin(ctx, g.ID, m.Seq, bob.ID, true, at(1))
	wantCode(t, err, parley.EFORBIDDEN, "Pin(group member)")
	_, _, err = s.Pin(ctx, g.ID, m.Seq, carol.ID, true, at(1))
	wantCode(t, err, parley.ENOTFOUND, "Pin(stranger)")
	_, err = s.Pins(ctx, g.ID, carol.ID)
	wantCode(t, err, parley.ENOTFOUND, "Pins(stranger)")
	pins, changed, err := s.Pin(ctx, g.ID, m.Seq, alice.ID, true, at(2))
	ok(t, err, "Pin(owner)")
	if !changed || len(pins) != 1 || pins[0].Seq != m.Seq || pins[0].PinnedBy != alice.ID || pins[0].Message == nil || pins[0].Message.Text != "meet at 8" {
		t.Fatalf("Pin(owner): changed %v pins %+v", changed, pins)
	}
	sameTime(t, "pinned_at", pins[0].PinnedAt, at(2))
	// Made admin, bob may.
	_, _, err = s.SetRole(ctx, g.ID, bob.ID, parley.RoleAdmin, alice.ID, at(3))
	ok(t, err, "SetRole")
	m2 := MustSend(t, s, g.ID, alice, "bring water")
	pins, _, err = s.Pin(ctx, g.ID, m2.Seq, bob.ID, true, at(4))
	ok(t, err, "Pin(admin)")
	same(t, "pins, latest first", pinSeqs(pins), []int64{m2.Seq, m.Seq})
	got, err := s.Pins(ctx, g.ID, alice.ID)
	ok(t, err, "Pins")
	same(t, "Pins", got, pins)
	_, err = s.RemoveMember(ctx, g.ID, bob.ID, alice.ID, at(5))
	ok(t, err, "RemoveMember")
	_, _, err = s.Pin(ctx, g.ID, m2.Seq, bob.ID, false, at(6))
	wantCode(t, err, parley.ENOTFOUND, "Pin(removed member)")

	d := MustDirect(t, s, alice, carol)
	dm := MustSend(t, s, d.ID, alice, "hi")
	pins, _, err = s.Pin(ctx, d.ID, dm.Seq, carol.ID, true, at(7))
	ok(t, err, "Pin(direct, the other person)")
	same(t, "direct pins", pinSeqs(pins), []int64{dm.Seq})
}

// Pinning twice or unpinning what is not pinned changes nothing; system,
// missing and deleted messages cannot be pinned; a pinned message deleted
// leaves the list.
func testPinToggle(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	m := MustSend(t, s, g.ID, bob, "one")
	_, changed, err := s.Pin(ctx, g.ID, m.Seq, alice.ID, true, at(1))
	ok(t, err, "Pin")
	_, again, err := s.Pin(ctx, g.ID, m.Seq, alice.ID, true, at(2))
	ok(t, err, "Pin(again)")
	if !changed || again {
		t.Fatalf("Pin changed %v, again %v; want true, false", changed, again)
	}
	pins, err := s.Pins(ctx, g.ID, bob.ID)
	ok(t, err, "Pins")
	sameTime(t, "pinned_at kept", pins[0].PinnedAt, at(1))
	_, _, err = s.Pin(ctx, g.ID, 1, alice.ID, true, at(3)) // the "created" system message
	wantCode(t, err, parley.EINVALID, "Pin(system message)")
	_, _, err = s.Pin(ctx, g.ID, 999, alice.ID, true, at(3))
	wantCode(t, err, parley.ENOTFOUND, "Pin(no such message)")
	pins, changed, err = s.Pin(ctx, g.ID, m.Seq, alice.ID, false, at(4))
	ok(t, err, "Unpin")
	_, again, err = s.Pin(ctx, g.ID, m.Seq, alice.ID, false, at(5))
	ok(t, err, "Unpin(again)")
	if !changed || again || len(pins) != 0 {
		t.Fatalf("Unpin changed %v, again %v, pins %v", changed, again, pins)
	}
	_, _, err = s.Pin(ctx, g.ID, m.Seq, alice.ID, true, at(6))
	ok(t, err, "Pin")
	_, err = s.DeleteMessage(ctx, g.ID, m.Seq, bob.ID, false, at(7))
	ok(t, err, "DeleteMessage")
	pins, err = s.Pins(ctx, g.ID, bob.ID)
	ok(t, err, "Pins")
	same(t, "pins after the deletion", pinSeqs(pins), []int64{})
	_, _, err = s.Pin(ctx, g.ID, m.Seq, alice.ID, true, at(8))
	wantCode(t, err, parley.EINVALID, "Pin(deleted message)")
}

// At most PinsPerConversation pins; a deleted one frees its place.
func testPinLimit(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	g := MustGroup(t, s, "Club", alice)
	var msgs []parley.Message
	for i := range parley.PinsPerConversation + 1 {
		msgs = append(msgs, MustSend(t, s, g.ID, alice, fmt.Sprintf("m%d", i)))
	}
	for i, m := range msgs[:parley.PinsPerConversation] {
		_, _, err := s.Pin(ctx, g.ID, m.Seq, alice.ID, true, at(i))
		ok(t, err, "Pin")
	}
	last := msgs[parley.PinsPerConversation]
	_, _, err := s.Pin(ctx, g.ID, last.Seq, alice.ID, true, at(100))
	wantCode(t, err, parley.ECONFLICT, "Pin(past the limit)")
	_, err = s.DeleteMessage(ctx, g.ID, msgs[0].Seq, alice.ID, false, at(101))
	ok(t, err, "DeleteMessage")
	pins, _, err := s.Pin(ctx, g.ID, last.Seq, alice.ID, true, at(102))
	ok(t, err, "Pin(after a deletion)")
	if len(pins) != parley.PinsPerConversation || pins[0].Seq != last.Seq {
		t.Fatalf("pins after a deletion: %d, first %d", len(pins), pins[0].Seq)
	}
}

// Each person's settings are their own; pinning again keeps the time;
// a stranger gets not_found; leaving drops the conversation from the list.
func testChatListSet(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob)
	d := MustDirect(t, s, alice, bob)
	yes, no := true, false

	list, err := s.ChatList(ctx, alice.ID)
	ok(t, err, "ChatList(none)")
	same(t, "empty chat list", list, []parley.ChatListEntry{})
	e, err := s.SetChatList(ctx, g.ID, alice.ID, parley.ChatListUpdate{Pinned: &yes}, at(1))
	ok(t, err, "SetChatList(pin)")
	same(t, "pinned", e, parley.ChatListEntry{ConversationID: g.ID, PinnedAt: normp(at(1))})
	e, err = s.SetChatList(ctx, g.ID, alice.ID, parley.ChatListUpdate{Pinned: &yes, MarkedUnread: &yes}, at(2))
	ok(t, err, "SetChatList(pin again, unread)")
	same(t, "pinned again", e, parley.ChatListEntry{ConversationID: g.ID, PinnedAt: normp(at(1)), MarkedUnread: true})
	_, err = s.SetChatList(ctx, d.ID, alice.ID, parley.ChatListUpdate{Archived: &yes}, at(3))
	ok(t, err, "SetChatList(archive)")
	list, err = s.ChatList(ctx, alice.ID)
	ok(t, err, "ChatList")
	same(t, "alice's list", list, []parley.ChatListEntry{
		{ConversationID: g.ID, PinnedAt: normp(at(1)), MarkedUnread: true},
		{ConversationID: d.ID, ArchivedAt: normp(at(3))},
	})
	list, err = s.ChatList(ctx, bob.ID)
	ok(t, err, "ChatList(bob)")
	same(t, "bob's list", list, []parley.ChatListEntry{})

	e, err = s.SetChatList(ctx, d.ID, alice.ID, parley.ChatListUpdate{Archived: &no}, at(4))
	ok(t, err, "SetChatList(unarchive)")
	same(t, "unarchived", e, parley.ChatListEntry{ConversationID: d.ID})
	_, err = s.SetChatList(ctx, g.ID, carol.ID, parley.ChatListUpdate{Pinned: &yes}, at(5))
	wantCode(t, err, parley.ENOTFOUND, "SetChatList(stranger)")

	_, err = s.RemoveMember(ctx, g.ID, alice.ID, alice.ID, at(6))
	ok(t, err, "RemoveMember(leave)")
	list, err = s.ChatList(ctx, alice.ID)
	ok(t, err, "ChatList(after leaving)")
	same(t, "list after leaving", list, []parley.ChatListEntry{})
}

// At most PinnedChatsMax conversations pinned per person.
func testChatListLimit(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	yes, no := true, false
	var groups []parley.Conversation
	for i := range parley.PinnedChatsMax + 1 {
		groups = append(groups, MustGroup(t, s, fmt.Sprintf("G%d", i), alice))
	}
	for i, g := range groups[:parley.PinnedChatsMax] {
		_, err := s.SetChatList(ctx, g.ID, alice.ID, parley.ChatListUpdate{Pinned: &yes}, at(i))
		ok(t, err, "SetChatList(pin)")
	}
	last := groups[parley.PinnedChatsMax]
	_, err := s.SetChatList(ctx, last.ID, alice.ID, parley.ChatListUpdate{Pinned: &yes}, at(50))
	wantCode(t, err, parley.ECONFLICT, "SetChatList(past the limit)")
	_, err = s.SetChatList(ctx, groups[0].ID, alice.ID, parley.ChatListUpdate{Pinned: &no}, at(51))
	ok(t, err, "SetChatList(unpin)")
	_, err = s.SetChatList(ctx, last.ID, alice.ID, parley.ChatListUpdate{Pinned: &yes}, at(52))
	ok(t, err, "SetChatList(pin after unpinning one)")
}
