package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
)

func text(conversationID int64, sender parley.User, clientMsgID, body string, i int) parley.NewMessage {
	return parley.NewMessage{
		ConversationID: conversationID,
		SenderID:       sender.ID,
		ClientMsgID:    clientMsgID,
		Kind:           parley.MessageText,
		Text:           body,
		CreatedAt:      at(i),
	}
}

func testAppend(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	base := g.LastSeq

	m, created, err := s.AppendMessage(ctx, text(g.ID, bob, "c1", "hello", 5))
	ok(t, err, "AppendMessage")
	if !created {
		t.Fatal("AppendMessage: created = false")
	}
	if m.ID == 0 || m.Mod <= g.LastMod {
		t.Fatalf("AppendMessage: id %d mod %d, want an id and a mod above %d", m.ID, m.Mod, g.LastMod)
	}
	same(t, "appended message", m, parley.Message{
		ID: m.ID, ConversationID: g.ID, Seq: base + 1, Mod: m.Mod, SenderID: bob.ID, Sender: ref(bob),
		ClientMsgID: "c1", Kind: parley.MessageText, Text: "hello", CreatedAt: norm(at(5)),
	})
	c := mustConversation(t, s, g.ID)
	if c.LastSeq != m.Seq || c.LastMod != m.Mod {
		t.Fatalf("conversation last_seq/last_mod = %d/%d, want %d/%d", c.LastSeq, c.LastMod, m.Seq, m.Mod)
	}
	sameTime(t, "last activity", c.LastActivity, at(5))

	stored, err := s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "Message", stored, m)

	m2, _, err := s.AppendMessage(ctx, text(g.ID, alice, "c2", "hi bob", 6))
	ok(t, err, "AppendMessage")
	if m2.Seq != m.Seq+1 || m2.Mod <= m.Mod {
		t.Fatalf("second message seq %d mod %d, want seq %d and mod above %d", m2.Seq, m2.Mod, m.Seq+1, m.Mod)
	}
	same(t, "second sender", m2.Sender, ref(alice))

	_, err = s.Message(ctx, g.ID, m2.Seq+1)
	wantCode(t, err, parley.ENOTFOUND, "Message(past the end)")
	_, err = s.Message(ctx, g.ID+1000, 1)
	wantCode(t, err, parley.ENOTFOUND, "Message(unknown conversation)")

	// The sender's current display name is what a message shows.
	name := "Robert"
	_, err = s.UpdateUser(ctx, bob.ID, parley.UserUpdate{DisplayName: &name})
	ok(t, err, "UpdateUser")
	stored, err = s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	if stored.Sender == nil || stored.Sender.DisplayName != "Robert" {
		t.Fatalf("sender after rename = %+v, want display name Robert", stored.Sender)
	}
}

func testAppendNotMember(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	d := MustDirect(t, s, alice, bob)

	_, _, err := s.AppendMessage(ctx, text(d.ID, carol, "c1", "let me in", 1))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage by a non-member")
	_, _, err = s.AppendMessage(ctx, text(d.ID+1000, alice, "c1", "anyone?", 1))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage to an unknown conversation")

	c := mustConversation(t, s, d.ID)
	if c.LastSeq != 0 || c.LastMod != 0 {
		t.Fatalf("after refused appends: last_seq %d last_mod %d, want 0, 0", c.LastSeq, c.LastMod)
	}
	ms, err := s.Messages(ctx, d.ID, parley.MessageQuery{Limit: 10})
	ok(t, err, "Messages")
	if len(ms) != 0 {
		t.Fatalf("messages after refused appends: %v", seqs(ms))
	}
}

func testAppendIdempotent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	e := MustDirect(t, s, alice, MustUser(t, s, "carol"))

	orig, created, err := s.AppendMessage(ctx, text(d.ID, alice, "same", "first", 1))
	ok(t, err, "AppendMessage")
	if !created {
		t.Fatal("first append: created = false")
	}
	again, created, err := s.AppendMessage(ctx, text(d.ID, alice, "same", "a different text", 2))
	ok(t, err, "AppendMessage again")
	if created {
		t.Fatal("append with a used client_msg_id: created = true")
	}
	same(t, "append with a used client_msg_id", again, orig)
	if c := mustConversation(t, s, d.ID); c.LastSeq != 1 || c.LastMod != orig.Mod {
		t.Fatalf("after a repeated append: last_seq %d last_mod %d, want 1, %d", c.LastSeq, c.LastMod, orig.Mod)
	}

	// The id is the sender's own, per conversation.
	byBob, created, err := s.AppendMessage(ctx, text(d.ID, bob, "same", "bob's", 3))
	ok(t, err, "AppendMessage(bob, same id)")
	if !created || byBob.Seq != 2 {
		t.Fatalf("another sender with the same id: created %v seq %d, want true, 2", created, byBob.Seq)
	}
	elsewhere, created, err := s.AppendMessage(ctx, text(e.ID, alice, "same", "elsewhere", 4))
	ok(t, err, "AppendMessage(other conversation, same id)")
	if !created || elsewhere.Seq != 1 {
		t.Fatalf("same id in another conversation: created %v seq %d, want true, 1", created, elsewhere.Seq)
	}

	// Still the original after other messages, edits and deletion.
	_, err = s.EditMessage(ctx, d.ID, orig.Seq, alice.ID, "edited", nil, at(5))
	ok(t, err, "EditMessage")
	edited, err := s.Message(ctx, d.ID, orig.Seq)
	ok(t, err, "Message")
	again, created, err = s.AppendMessage(ctx, text(d.ID, alice, "same", "first", 6))
	ok(t, err, "AppendMessage after edit")
	if created {
		t.Fatal("append after edit: created = true")
	}
	same(t, "repeated append after edit", again, edited)

	ms, err := s.Messages(ctx, d.ID, parley.MessageQuery{Limit: 10})
	ok(t, err, "Messages")
	if got := seqs(ms); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("history = %v, want [1 2]", got)
	}
}

func testAppendSystem(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)

	info := &parley.SystemInfo{Event: parley.SysCall, ActorID: alice.ID, Name: "missed", Media: "video", Seconds: 0}
	m, created, err := s.AppendMessage(ctx, parley.NewMessage{
		ConversationID: d.ID, SenderID: alice.ID, Kind: parley.MessageSystem, System: info, CreatedAt: at(1),
	})
	ok(t, err, "AppendMessage(system)")
	if !created || m.Seq != 1 {
		t.Fatalf("system append: created %v seq %d", created, m.Seq)
	}
	same(t, "system message", m, parley.Message{
		ID: m.ID, ConversationID: d.ID, Seq: 1, Mod: m.Mod, SenderID: alice.ID, Sender: ref(alice),
		Kind: parley.MessageSystem, System: info, CreatedAt: norm(at(1)),
	})

	// Without an actor there is no sender.
	info = &parley.SystemInfo{Event: parley.SysCall, Name: "ended", Media: "audio", Seconds: 42}
	m, _, err = s.AppendMessage(ctx, parley.NewMessage{
		ConversationID: d.ID, Kind: parley.MessageSystem, System: info, CreatedAt: at(2),
	})
	ok(t, err, "AppendMessage(system, no sender)")
	stored, err := s.Message(ctx, d.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "system message without sender", stored, parley.Message{
		ID: m.ID, ConversationID: d.ID, Seq: 2, Mod: m.Mod, Kind: parley.MessageSystem, System: info, CreatedAt: norm(at(2)),
	})
	same(t, "as returned", m, stored)
}

func testMessagesPage(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	other := MustDirect(t, s, alice, MustUser(t, s, "carol"))
	sent := map[int64]parley.Message{}
	for i := range 10 {
		from := alice
		if i%2 == 1 {
			from = bob
		}
		m := MustSendAt(t, s, d.ID, from, fmt.Sprintf("message %d", i+1), at(i))
		sent[m.Seq] = m
		MustSendAt(t, s, other.ID, alice, "noise", at(i))
	}

	r := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, c := range []struct {
		q    parley.MessageQuery
		want []int64
	}{
		{parley.MessageQuery{Limit: 50}, r(1, 10)},
		{parley.MessageQuery{Limit: 3}, r(1, 3)},
		{parley.MessageQuery{AfterSeq: 3, Limit: 4}, r(4, 7)},
		{parley.MessageQuery{AfterSeq: 8, Limit: 4}, r(9, 10)},
		{parley.MessageQuery{AfterSeq: 10, Limit: 4}, nil},
		{parley.MessageQuery{BeforeSeq: 5, Limit: 3}, r(2, 4)},
		{parley.MessageQuery{BeforeSeq: 3, Limit: 10}, r(1, 2)},
		{parley.MessageQuery{BeforeSeq: 1, Limit: 10}, nil},
		{parley.MessageQuery{BeforeSeq: 11, Limit: 2}, r(9, 10)},
	} {
		ms, err := s.Messages(ctx, d.ID, c.q)
		ok(t, err, "Messages")
		if got := seqs(ms); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Fatalf("Messages(%+v) = %v, want %v", c.q, got, c.want)
		}
		for _, m := range ms {
			same(t, fmt.Sprintf("message %d in a page", m.Seq), m, sent[m.Seq])
		}
	}
}

func testEditMessage(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	m := MustSendAt(t, s, d.ID, bob, "helo", at(0))
	MustSendAt(t, s, d.ID, alice, "hm?", at(1))

	_, err := s.EditMessage(ctx, d.ID, m.Seq, alice.ID, "hijacked", nil, at(2))
	wantCode(t, err, parley.EFORBIDDEN, "EditMessage by another member")

	before := mustConversation(t, s, d.ID)
	e, err := s.EditMessage(ctx, d.ID, m.Seq, bob.ID, "hello", nil, at(3))
	ok(t, err, "EditMessage")
	if e.Mod <= before.LastMod {
		t.Fatalf("edit mod %d, want above the conversation's last_mod %d", e.Mod, before.LastMod)
	}
	want := m
	want.Text, want.EditedAt, want.Mod = "hello", normp(at(3)), e.Mod
	same(t, "edited message", e, want)
	after := mustConversation(t, s, d.ID)
	if after.LastMod != e.Mod || after.LastSeq != before.LastSeq {
		t.Fatalf("after edit: last_mod %d last_seq %d, want %d, %d", after.LastMod, after.LastSeq, e.Mod, before.LastSeq)
	}
	stored, err := s.Message(ctx, d.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "stored edited message", stored, e)

	e2, err := s.EditMessage(ctx, d.ID, m.Seq, bob.ID, "hello!", nil, at(4))
	ok(t, err, "EditMessage again")
	if e2.Mod <= e.Mod || e2.Text != "hello!" {
		t.Fatalf("second edit: mod %d text %q, want above %d, hello!", e2.Mod, e2.Text, e.Mod)
	}
	sameTime(t, "edited at", *e2.EditedAt, at(4))

	_, err = s.EditMessage(ctx, d.ID, 99, bob.ID, "x", nil, at(5))
	wantCode(t, err, parley.ENOTFOUND, "EditMessage(unknown seq)")

	_, err = s.DeleteMessage(ctx, d.ID, m.Seq, bob.ID, false, at(6))
	ok(t, err, "DeleteMessage")
	_, err = s.EditMessage(ctx, d.ID, m.Seq, bob.ID, "back from the dead", nil, at(7))
	wantCode(t, err, parley.EINVALID, "EditMessage of a deleted message")
	stored, err = s.Message(ctx, d.ID, m.Seq)
	ok(t, err, "Message")
	if stored.Text != "" {
		t.Fatalf("deleted message text after refused edit = %q", stored.Text)
	}
}

func testDeleteMessage(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	m1 := MustSendAt(t, s, g.ID, bob, "first", at(0))
	m2 := MustSendAt(t, s, g.ID, bob, "second", at(1))

	_, err := s.DeleteMessage(ctx, g.ID, m1.Seq, alice.ID, false, at(2))
	wantCode(t, err, parley.EFORBIDDEN, "DeleteMessage of another's message without moderation")
	stored, err := s.Message(ctx, g.ID, m1.Seq)
	ok(t, err, "Message")
	same(t, "message after refused delete", stored, m1)

	before := mustConversation(t, s, g.ID)
	d1, err := s.DeleteMessage(ctx, g.ID, m1.Seq, bob.ID, false, at(3))
	ok(t, err, "DeleteMessage by sender")
	if d1.Mod <= before.LastMod {
		t.Fatalf("delete mod %d, want above the conversation's last_mod %d", d1.Mod, before.LastMod)
	}
	want := m1
	want.Text, want.DeletedAt, want.Mod = "", normp(at(3)), d1.Mod
	same(t, "tombstone", d1, want)
	stored, err = s.Message(ctx, g.ID, m1.Seq)
	ok(t, err, "Message")
	same(t, "stored tombstone", stored, d1)
	if c := mustConversation(t, s, g.ID); c.LastMod != d1.Mod || c.LastSeq != before.LastSeq {
		t.Fatalf("after delete: last_mod %d last_seq %d, want %d, %d", c.LastMod, c.LastSeq, d1.Mod, before.LastSeq)
	}

	again, err := s.DeleteMessage(ctx, g.ID, m1.Seq, bob.ID, false, at(4))
	ok(t, err, "DeleteMessage again")
	same(t, "deleting a tombstone", again, d1)
	if c := mustConversation(t, s, g.ID); c.LastMod != d1.Mod {
		t.Fatalf("deleting a tombstone moved last_mod to %d", c.LastMod)
	}

	d2, err := s.DeleteMessage(ctx, g.ID, m2.Seq, alice.ID, true, at(5))
	ok(t, err, "DeleteMessage by moderator")
	if d2.Text != "" || d2.DeletedAt == nil || d2.SenderID != bob.ID || d2.Mod <= d1.Mod {
		t.Fatalf("moderator's delete = %+v, want bob's tombstone with a mod above %d", d2, d1.Mod)
	}

	_, err = s.DeleteMessage(ctx, g.ID, 99, alice.ID, true, at(6))
	wantCode(t, err, parley.ENOTFOUND, "DeleteMessage(unknown seq)")
}

func testChanges(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	for i := range 6 {
		MustSendAt(t, s, d.ID, alice, fmt.Sprintf("m%d", i+1), at(i))
	}
	created := mustConversation(t, s, d.ID).LastMod

	mustEdit := func(seq int64, body string) parley.Message {
		t.Helper()
		m, err := s.EditMessage(ctx, d.ID, seq, alice.ID, body, nil, at(10))
		ok(t, err, "EditMessage")
		return m
	}
	mustEdit(2, "m2'")
	d4, err := s.DeleteMessage(ctx, d.ID, 4, alice.ID, false, at(11))
	ok(t, err, "DeleteMessage")
	e5 := mustEdit(5, "m5'")
	e2 := mustEdit(2, "m2''")
	e6 := mustEdit(6, "m6'")

	// Each changed message appears once, with its latest change, in mod
	// order; messages never changed do not appear.
	for _, c := range []struct {
		afterMod, maxSeq int64
		limit            int
		want             []parley.Message
	}{
		{0, 6, 10, []parley.Message{d4, e5, e2, e6}},
		{created, 6, 10, []parley.Message{d4, e5, e2, e6}},
		{d4.Mod, 6, 10, []parley.Message{e5, e2, e6}},
		{0, 5, 10, []parley.Message{d4, e5, e2}},
		{0, 4, 10, []parley.Message{d4, e2}},
		{0, 1, 10, []parley.Message{}},
		{0, 6, 2, []parley.Message{d4, e5}},
		{e5.Mod, 6, 1, []parley.Message{e2}},
		{e6.Mod, 6, 10, []parley.Message{}},
	} {
		got, err := s.Changes(ctx, d.ID, c.afterMod, c.maxSeq, c.limit)
		ok(t, err, "Changes")
		if got == nil {
			got = []parley.Message{}
		}
		same(t, fmt.Sprintf("Changes(afterMod %d, maxSeq %d, limit %d)", c.afterMod, c.maxSeq, c.limit), got, c.want)
	}
}

func testSetMarks(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	d := MustDirect(t, s, alice, bob)
	for i := range 5 {
		MustSendAt(t, s, d.ID, bob, fmt.Sprintf("m%d", i+1), at(i))
	}

	for _, c := range []struct {
		delivered, read   int64
		wantDel, wantRead int64
		wantChanged       bool
		what              string
	}{
		{3, 0, 3, 0, true, "delivered forward"},
		{2, 0, 3, 0, false, "delivered backward"},
		{0, 2, 3, 2, true, "read forward"},
		{3, 1, 3, 2, false, "read backward"},
		{0, 4, 4, 4, true, "read implies delivered"},
		{100, 0, 5, 4, true, "delivered clamped to last_seq"},
		{0, 100, 5, 5, true, "read clamped to last_seq"},
		{5, 5, 5, 5, false, "nothing new"},
		{0, 0, 5, 5, false, "zeros"},
	} {
		m, changed, err := s.SetMarks(ctx, d.ID, alice.ID, c.delivered, c.read, at(10), 100)
		ok(t, err, "SetMarks("+c.what+")")
		if m.DeliveredSeq != c.wantDel || m.ReadSeq != c.wantRead || changed != c.wantChanged {
			t.Fatalf("SetMarks(%d, %d) [%s] = delivered %d read %d changed %v; want %d %d %v",
				c.delivered, c.read, c.what, m.DeliveredSeq, m.ReadSeq, changed, c.wantDel, c.wantRead, c.wantChanged)
		}
		if m.UserID != alice.ID || m.ConversationID != d.ID || m.Username != "alice" {
			t.Fatalf("SetMarks returned member %+v", m)
		}
		same(t, "stored member after SetMarks", mustMember(t, s, d.ID, alice.ID), m)
	}

	_, _, err := s.SetMarks(ctx, d.ID, carol.ID, 1, 1, at(10), 100)
	wantCode(t, err, parley.ENOTFOUND, "SetMarks of a non-member")
	if m := mustMember(t, s, d.ID, bob.ID); m.DeliveredSeq != 5 || m.ReadSeq != 5 {
		t.Fatalf("bob's marks = %d/%d, want 5/5 (his own messages)", m.DeliveredSeq, m.ReadSeq)
	}
}

// testMarkTimes: SetMarks records the minutes in which marks moved,
// MarkTimes answers when each member's marks first reached a seq (the
// minute's start, never before the message), and nothing is recorded above
// stepsUpTo members or kept after the membership ends.
func testMarkTimes(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob, carol)
	var sent []parley.Message
	for i := range 4 {
		sent = append(sent, MustSendAt(t, s, g.ID, alice, fmt.Sprintf("m%d", i+1), at(i)))
	}
	seq := func(i int) int64 { return sent[i].Seq }
	sec := func(i, secs int) time.Time { return at(i).Add(time.Duration(secs) * time.Second) }
	minute := func(t time.Time) *time.Time { m := time.Unix(t.Unix()/60*60, 0).UTC(); return &m }
	move := func(u parley.User, delivered, read int64, when time.Time, upTo int) {
		t.Helper()
		_, changed, err := s.SetMarks(ctx, g.ID, u.ID, delivered, read, when, upTo)
		ok(t, err, "SetMarks")
		if !changed {
			t.Fatalf("SetMarks(%s, %d, %d) changed nothing", u.Username, delivered, read)
		}
	}
	move(bob, seq(1), 0, sec(5, 10), 3) // delivered m1, m2 in minute 5
	move(bob, seq(2), 0, sec(5, 40), 3) // and m3 in the same minute
	move(bob, 0, seq(0), sec(6, 0), 3)  // read m1 in minute 6
	move(bob, seq(3), seq(2), sec(7, 0), 3)
	sent = append(sent, MustSendAt(t, s, g.ID, alice, "m5", sec(8, 30)))
	move(bob, seq(4), 0, sec(8, 45), 3)
	move(carol, seq(4), seq(4), sec(9, 0), 2) // a group of 3 > 2: no steps

	check := func(what string, i int, want map[int64][2]*time.Time) {
		t.Helper()
		got, err := s.MarkTimes(ctx, g.ID, sent[i].Seq, sent[i].CreatedAt)
		ok(t, err, "MarkTimes")
		gotm := map[int64][2]*time.Time{}
		for _, mt := range got {
			gotm[mt.UserID] = [2]*time.Time{mt.DeliveredAt, mt.ReadAt}
		}
		same(t, what, gotm, want)
	}
	check("times of m1", 0, map[int64][2]*time.Time{bob.ID: {minute(sec(5, 10)), minute(sec(6, 0))}})
	check("times of m3 (delivered in the same minute as m2)", 2, map[int64][2]*time.Time{bob.ID: {minute(sec(5, 10)), minute(sec(7, 0))}})
	check("times of m4", 3, map[int64][2]*time.Time{bob.ID: {minute(sec(7, 0)), nil}})
	check("times of m5 (delivered in the minute it was sent: its time)", 4, map[int64][2]*time.Time{bob.ID: {normp(sec(8, 30)), nil}})
	for _, c := range []struct {
		what string
		seq  int64
		sent time.Time
	}{
		{"past the last message", seq(4) + 1, at(10)},
		{"of a message sent long after the steps", seq(0), at(20)},
	} {
		if got, err := s.MarkTimes(ctx, g.ID, c.seq, c.sent); err != nil || len(got) != 0 {
			t.Fatalf("MarkTimes %s = %v, %v; want none", c.what, got, err)
		}
	}
	if got, err := s.MarkTimes(ctx, 1<<40, 1, at(0)); err != nil || len(got) != 0 {
		t.Fatalf("MarkTimes of no conversation = %v, %v; want none", got, err)
	}

	// Leaving forgets bob's steps.
	_, err := s.RemoveMember(ctx, g.ID, bob.ID, bob.ID, at(9))
	ok(t, err, "RemoveMember")
	check("times after bob left", 0, map[int64][2]*time.Time{})
	_, _, _, err = s.AddMember(ctx, g.ID, bob.ID, 10, at(10))
	ok(t, err, "AddMember")
	// His marks moved to the system message of his joining, his own: no times.
	if m := mustMember(t, s, g.ID, bob.ID); m.DeliveredSeq <= seq(4) {
		t.Fatalf("bob's delivered mark after joining again = %d, want past %d", m.DeliveredSeq, seq(4))
	}
	check("times after bob joined again", 0, map[int64][2]*time.Time{})

	// Deleting an account deletes its times, in direct chats too; its
	// marks stay.
	dave := MustUser(t, s, "dave")
	d := MustDirect(t, s, alice, dave)
	dm := MustSendAt(t, s, d.ID, alice, "hi", at(12))
	_, _, err = s.SetMarks(ctx, d.ID, dave.ID, dm.Seq, dm.Seq, sec(13, 0), 3)
	ok(t, err, "SetMarks")
	if got, err := s.MarkTimes(ctx, d.ID, dm.Seq, dm.CreatedAt); err != nil || len(got) != 1 || got[0].UserID != dave.ID {
		t.Fatalf("MarkTimes in the direct chat = %v, %v; want dave's", got, err)
	}
	_, err = s.DeleteUser(ctx, dave.ID, at(100), at(14))
	ok(t, err, "DeleteUser")
	if got, err := s.MarkTimes(ctx, d.ID, dm.Seq, dm.CreatedAt); err != nil || len(got) != 0 {
		t.Fatalf("MarkTimes after dave deleted his account = %v, %v; want none", got, err)
	}
	if m := mustMember(t, s, d.ID, dave.ID); m.ReadSeq != dm.Seq {
		t.Fatalf("dave's read mark after deleting his account = %d, want %d", m.ReadSeq, dm.Seq)
	}
}

func testSenderMarks(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)

	m1 := MustSend(t, s, d.ID, bob, "one")
	m2 := MustSend(t, s, d.ID, bob, "two")
	if m := mustMember(t, s, d.ID, bob.ID); m.DeliveredSeq != m2.Seq || m.ReadSeq != m2.Seq {
		t.Fatalf("sender's marks = %d/%d, want %d/%d", m.DeliveredSeq, m.ReadSeq, m2.Seq, m2.Seq)
	}
	if m := mustMember(t, s, d.ID, alice.ID); m.DeliveredSeq != 0 || m.ReadSeq != 0 {
		t.Fatalf("recipient's marks = %d/%d, want 0/0", m.DeliveredSeq, m.ReadSeq)
	}
	_, _, err := s.SetMarks(ctx, d.ID, alice.ID, m1.Seq, 0, at(10), 100)
	ok(t, err, "SetMarks")
	m3 := MustSend(t, s, d.ID, alice, "three")
	if m := mustMember(t, s, d.ID, alice.ID); m.DeliveredSeq != m3.Seq || m.ReadSeq != m3.Seq {
		t.Fatalf("replying member's marks = %d/%d, want %d/%d", m.DeliveredSeq, m.ReadSeq, m3.Seq, m3.Seq)
	}
}

// testAppendNotAccepting: a text message in a direct chat needs the other
// member to accept messages; a resend of an earlier message still gets its
// acknowledgement, and groups and system messages are not concerned.
func testAppendNotAccepting(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	g := MustGroup(t, s, "Club", alice, bob)
	first, _, err := s.AppendMessage(ctx, text(d.ID, alice, "a1", "hi", 1))
	ok(t, err, "AppendMessage")

	no, yes := false, true
	_, err = s.UpdateUser(ctx, bob.ID, parley.UserUpdate{AcceptingMessages: &no})
	ok(t, err, "UpdateUser")
	_, _, err = s.AppendMessage(ctx, text(d.ID, alice, "a2", "still there?", 2))
	wantCode(t, err, parley.ENOTACCEPTING, "AppendMessage to someone not accepting")
	again, created, err := s.AppendMessage(ctx, text(d.ID, alice, "a1", "hi", 3))
	ok(t, err, "resend to someone not accepting")
	if created || again.Seq != first.Seq {
		t.Fatalf("resend: created %v seq %d, want the original %d", created, again.Seq, first.Seq)
	}
	_, _, err = s.AppendMessage(ctx, text(d.ID, bob, "b1", "I can still write", 4))
	ok(t, err, "AppendMessage by the one not accepting")
	_, _, err = s.AppendMessage(ctx, text(g.ID, alice, "g1", "groups are not concerned", 5))
	ok(t, err, "AppendMessage to a group")
	_, _, err = s.AppendMessage(ctx, parley.NewMessage{ConversationID: d.ID, Kind: parley.MessageSystem,
		System: &parley.SystemInfo{Event: parley.SysCall, ActorID: alice.ID, Name: "missed"}, CreatedAt: at(6)})
	ok(t, err, "system message")
	if c := mustConversation(t, s, d.ID); c.LastSeq != 3 {
		t.Fatalf("last_seq %d, want 3 (the refused message not stored)", c.LastSeq)
	}

	_, err = s.UpdateUser(ctx, bob.ID, parley.UserUpdate{AcceptingMessages: &yes})
	ok(t, err, "UpdateUser")
	m, _, err := s.AppendMessage(ctx, text(d.ID, alice, "a2", "still there?", 7))
	ok(t, err, "AppendMessage once accepting again")
	if m.Seq != 4 {
		t.Fatalf("seq %d, want 4", m.Seq)
	}
}

// testAppendFollowsChanges: what an append checks and assigns follows every
// change made meanwhile (a store may cache it, but must keep it exact):
// membership, the sender's names, and seq and mod after edits and system
// messages.
func testAppendFollowsChanges(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice)

	_, _, err := s.AppendMessage(ctx, text(g.ID, carol, "c1", "me?", 1))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage by a non-member")
	_, _, _, err = s.AddMember(ctx, g.ID, carol.ID, 10, at(2))
	ok(t, err, "AddMember")
	c1, _, err := s.AppendMessage(ctx, text(g.ID, carol, "c1", "me!", 3))
	ok(t, err, "AppendMessage by a new member")
	same(t, "sender", c1.Sender, ref(carol))

	name := "Carol C."
	_, err = s.UpdateUser(ctx, carol.ID, parley.UserUpdate{DisplayName: &name})
	ok(t, err, "UpdateUser")
	c2, _, err := s.AppendMessage(ctx, text(g.ID, carol, "c2", "renamed", 4))
	ok(t, err, "AppendMessage after a rename")
	if c2.Sender == nil || c2.Sender.DisplayName != name {
		t.Fatalf("sender after rename = %+v, want display name %q", c2.Sender, name)
	}
	edited, err := s.EditMessage(ctx, g.ID, c2.Seq, carol.ID, "renamed!", nil, at(5))
	ok(t, err, "EditMessage")
	c3, _, err := s.AppendMessage(ctx, text(g.ID, carol, "c3", "after the edit", 6))
	ok(t, err, "AppendMessage after an edit")
	if c3.Seq != c2.Seq+1 || c3.Mod <= edited.Mod {
		t.Fatalf("after an edit: seq %d mod %d, want seq %d and mod above %d", c3.Seq, c3.Mod, c2.Seq+1, edited.Mod)
	}

	left, err := s.RemoveMember(ctx, g.ID, carol.ID, carol.ID, at(7))
	ok(t, err, "RemoveMember")
	_, _, err = s.AppendMessage(ctx, text(g.ID, carol, "c4", "still here?", 8))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage after leaving")
	// Membership is checked before the resend lookup.
	_, _, err = s.AppendMessage(ctx, text(g.ID, carol, "c3", "after the edit", 9))
	wantCode(t, err, parley.ENOTFOUND, "resend after leaving")
	a1, _, err := s.AppendMessage(ctx, text(g.ID, alice, "a1", "bye carol", 10))
	ok(t, err, "AppendMessage after a system message")
	if a1.Seq != left.Seq+1 || a1.Mod != left.Mod+1 {
		t.Fatalf("after the system message %d/%d: seq %d mod %d, want the next of each", left.Seq, left.Mod, a1.Seq, a1.Mod)
	}
	c := mustConversation(t, s, g.ID)
	if c.LastSeq != a1.Seq || c.LastMod != a1.Mod {
		t.Fatalf("conversation %d/%d, want %d/%d", c.LastSeq, c.LastMod, a1.Seq, a1.Mod)
	}
	if m := mustMember(t, s, g.ID, alice.ID); m.ReadSeq != a1.Seq || m.DeliveredSeq != a1.Seq {
		t.Fatalf("sender's marks %d/%d, want %d", m.DeliveredSeq, m.ReadSeq, a1.Seq)
	}
}
