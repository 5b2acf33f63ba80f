package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"parley"
)

// Replies, reactions, pins and the rest of living in a conversation.

func convoTests() []struct {
	name string
	fn   func(*testing.T, parley.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, parley.Store)
	}{
		{"Reply/Append", testReplyAppend},
		{"Reply/Follows", testReplyFollows},
		{"Message/Around", testMessagesAround},
		{"Reaction/Toggle", testReactToggle},
		{"Reaction/Limits", testReactLimits},
		{"Reaction/Who", testReactWho},
	}
}

func reply(nm parley.NewMessage, to int64) parley.NewMessage {
	nm.ReplyTo = to
	return nm
}

// A reply stores the seq it answers and comes with the preview of that
// message; reply_to past the end is refused, a resend returns the
// original.
func testReplyAppend(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)

	orig, _, err := s.AppendMessage(ctx, text(g.ID, alice, "a1", "\n  first line  \nsecond line", 1))
	ok(t, err, "AppendMessage")
	r, created, err := s.AppendMessage(ctx, reply(text(g.ID, bob, "b1", "yes", 2), orig.Seq))
	ok(t, err, "AppendMessage(reply)")
	want := &parley.ReplyPreview{Seq: orig.Seq, Sender: ref(alice), Kind: parley.MessageText, Text: "first line"}
	if !created || r.ReplyTo != orig.Seq {
		t.Fatalf("reply: created %v reply_to %d, want true %d", created, r.ReplyTo, orig.Seq)
	}
	same(t, "appended reply's preview", r.Reply, want)
	got, err := s.Message(ctx, g.ID, r.Seq)
	ok(t, err, "Message")
	same(t, "stored reply", got, r)
	page, err := s.Messages(ctx, g.ID, parley.MessageQuery{AfterSeq: orig.Seq})
	ok(t, err, "Messages")
	if len(page) != 1 {
		t.Fatalf("page after the original: %d messages, want 1", len(page))
	}
	same(t, "reply in a page", page[0], r)

	// A resend returns the original, preview included.
	again, created, err := s.AppendMessage(ctx, reply(text(g.ID, bob, "b1", "yes", 3), orig.Seq))
	ok(t, err, "AppendMessage(resend)")
	if created {
		t.Fatal("resent reply stored again")
	}
	same(t, "resent reply", again, r)

	// reply_to must be a message of the conversation.
	last := mustConversation(t, s, g.ID).LastSeq
	_, _, err = s.AppendMessage(ctx, reply(text(g.ID, bob, "b2", "what?", 4), last+1))
	wantCode(t, err, parley.EINVALID, "AppendMessage(reply_to past the end)")
	if e, _ := err.(*parley.Error); e == nil || e.Field != "reply_to" {
		t.Fatalf("reply_to past the end: %v, want field reply_to", err)
	}
	other := MustGroup(t, s, "Other", alice)
	_, _, err = s.AppendMessage(ctx, reply(text(other.ID, alice, "a2", "elsewhere", 4), last))
	wantCode(t, err, parley.EINVALID, "AppendMessage(reply_to of another conversation)")
	if c := mustConversation(t, s, g.ID); c.LastSeq != last {
		t.Fatalf("a refused reply moved last_seq to %d", c.LastSeq)
	}
	// A stranger learns nothing, not even that reply_to is wrong.
	carol := MustUser(t, s, "carol")
	_, _, err = s.AppendMessage(ctx, reply(text(g.ID, carol, "c1", "hi", 4), last+5))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage(stranger's reply)")

	// Replies in one batch to a message of the same batch.
	done := make(chan error, 8)
	first, _, err := s.AppendMessage(ctx, text(g.ID, alice, "a3", "batch", 5))
	ok(t, err, "AppendMessage")
	for i := range 8 {
		go func() {
			m, _, err := s.AppendMessage(ctx, reply(text(g.ID, bob, fmt.Sprintf("r%d", i), "ok", 6), first.Seq))
			if err == nil && (m.Reply == nil || m.Reply.Text != "batch") {
				err = fmt.Errorf("reply %d preview %+v", i, m.Reply)
			}
			done <- err
		}()
	}
	for range 8 {
		ok(t, <-done, "concurrent reply")
	}
}

// The preview is the original as it stands: edited, it shows the new
// text; deleted, "deleted" and nothing else. A deleted reply forgets
// what it answered.
func testReplyFollows(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	orig, _, err := s.AppendMessage(ctx, text(d.ID, alice, "a1", "hello", 1))
	ok(t, err, "AppendMessage")
	r, _, err := s.AppendMessage(ctx, reply(text(d.ID, bob, "b1", "hi", 2), orig.Seq))
	ok(t, err, "AppendMessage(reply)")

	_, err = s.EditMessage(ctx, d.ID, orig.Seq, alice.ID, "hello again, with a very long first line that goes on and on and on past the hundred characters a preview keeps", nil, at(3))
	ok(t, err, "EditMessage")
	got, err := s.Message(ctx, d.ID, r.Seq)
	ok(t, err, "Message")
	if got.Reply == nil || !strings.HasPrefix(got.Reply.Text, "hello again, with") || !strings.HasSuffix(got.Reply.Text, "…") ||
		utf8.RuneCountInString(got.Reply.Text) > parley.ReplyTextMax {
		t.Fatalf("preview after the edit: %+v", got.Reply)
	}
	// Editing the reply keeps its preview (the edit's event carries it).
	edited, err := s.EditMessage(ctx, d.ID, r.Seq, bob.ID, "hi!", nil, at(4))
	ok(t, err, "EditMessage(reply)")
	if edited.ReplyTo != orig.Seq || edited.Reply == nil {
		t.Fatalf("edited reply: reply_to %d preview %+v", edited.ReplyTo, edited.Reply)
	}
	ch, err := s.Changes(ctx, d.ID, r.Mod, r.Seq, 10)
	ok(t, err, "Changes")
	if len(ch) != 2 || ch[1].Reply == nil || ch[1].Reply.Seq != orig.Seq {
		t.Fatalf("changes: %+v, want the original and the reply with its preview", ch)
	}

	_, err = s.DeleteMessage(ctx, d.ID, orig.Seq, alice.ID, false, at(5))
	ok(t, err, "DeleteMessage")
	got, err = s.Message(ctx, d.ID, r.Seq)
	ok(t, err, "Message")
	same(t, "preview of a deleted message", got.Reply,
		&parley.ReplyPreview{Seq: orig.Seq, Sender: ref(alice), Kind: parley.MessageText, Deleted: true})

	del, err := s.DeleteMessage(ctx, d.ID, r.Seq, bob.ID, false, at(6))
	ok(t, err, "DeleteMessage(reply)")
	if del.ReplyTo != 0 || del.Reply != nil {
		t.Fatalf("deleted reply: reply_to %d preview %+v, want none", del.ReplyTo, del.Reply)
	}
}

// A page around a seq: Limit/2 before it, the rest from it on.
func testMessagesAround(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	g := MustGroup(t, s, "Club", alice) // seq 1 is the group's creation
	for i := range 9 {
		_, _, err := s.AppendMessage(ctx, text(g.ID, alice, fmt.Sprintf("a%d", i), "m", i))
		ok(t, err, "AppendMessage")
	}
	for _, tc := range []struct {
		around int64
		limit  int
		want   []int64
	}{
		{5, 4, []int64{3, 4, 5, 6}},
		{5, 5, []int64{3, 4, 5, 6, 7}},
		{1, 4, []int64{1, 2}},
		{10, 4, []int64{8, 9, 10}},
		{12, 4, []int64{9, 10}},
		{5, 1, []int64{5}},
		{3, 30, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	} {
		ms, err := s.Messages(ctx, g.ID, parley.MessageQuery{AroundSeq: tc.around, Limit: tc.limit})
		ok(t, err, "Messages(around)")
		var got []int64
		for _, m := range ms {
			got = append(got, m.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("around %d limit %d: %v, want %v", tc.around, tc.limit, got, tc.want)
		}
	}
}

func react(t *testing.T, s parley.Store, conv, seq int64, u parley.User, emoji string, on bool, i int) (parley.Message, bool) {
	t.Helper()
	m, changed, err := s.React(context.Background(), conv, seq, u.ID, emoji, on, at(i))
	ok(t, err, fmt.Sprintf("React(%s %s %v)", u.Username, emoji, on))
	return m, changed
}

// Reactions toggle idempotently; each change moves the message's mod, so
// Changes (sync) carries it; several emoji per person; deleting the
// message deletes them.
func testReactToggle(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	m, _, err := s.AppendMessage(ctx, text(g.ID, alice, "a1", "hello", 1))
	ok(t, err, "AppendMessage")
	before := mustConversation(t, s, g.ID)

	r1, changed := react(t, s, g.ID, m.Seq, bob, "👍", true, 2)
	if !changed || r1.Mod <= before.LastMod {
		t.Fatalf("first reaction: changed %v mod %d, want a change above %d", changed, r1.Mod, before.LastMod)
	}
	same(t, "reactions", r1.Reactions, []parley.Reaction{{Emoji: "👍", Count: 1, Users: []int64{bob.ID}}})
	if c := mustConversation(t, s, g.ID); c.LastMod != r1.Mod || c.LastSeq != before.LastSeq {
		t.Fatalf("conversation after a reaction: seq %d mod %d, want %d %d", c.LastSeq, c.LastMod, before.LastSeq, r1.Mod)
	}
	again, changed := react(t, s, g.ID, m.Seq, bob, "👍", true, 3)
	if changed || again.Mod != r1.Mod {
		t.Fatalf("same reaction again: changed %v mod %d, want nothing changed", changed, again.Mod)
	}
	react(t, s, g.ID, m.Seq, alice, "👍", true, 4)
	r, _ := react(t, s, g.ID, m.Seq, bob, "🎉", true, 5)
	same(t, "reactions", r.Reactions, []parley.Reaction{
		{Emoji: "👍", Count: 2, Users: []int64{bob.ID, alice.ID}}, {Emoji: "🎉", Count: 1, Users: []int64{bob.ID}}})

	ch, err := s.Changes(ctx, g.ID, before.LastMod, m.Seq, 10)
	ok(t, err, "Changes")
	if len(ch) != 1 || ch[0].Mod != r.Mod {
		t.Fatalf("changes after reactions: %+v, want the message at mod %d", ch, r.Mod)
	}
	same(t, "reactions in Changes", ch[0].Reactions, r.Reactions)
	stored, err := s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "stored message", stored, r)

	r, changed = react(t, s, g.ID, m.Seq, bob, "👍", false, 6)
	if !changed {
		t.Fatal("taking a reaction back changed nothing")
	}
	same(t, "after taking back", r.Reactions, []parley.Reaction{
		{Emoji: "👍", Count: 1, Users: []int64{alice.ID}}, {Emoji: "🎉", Count: 1, Users: []int64{bob.ID}}})
	if _, changed = react(t, s, g.ID, m.Seq, bob, "👍", false, 7); changed {
		t.Fatal("taking back a reaction twice changed something")
	}
	react(t, s, g.ID, m.Seq, alice, "👍", false, 8)
	r, _ = react(t, s, g.ID, m.Seq, bob, "🎉", false, 9)
	if len(r.Reactions) != 0 {
		t.Fatalf("all taken back: %+v", r.Reactions)
	}
	// Still a change for a device that saw them.
	ch, err = s.Changes(ctx, g.ID, r.Mod-1, m.Seq, 10)
	ok(t, err, "Changes")
	if len(ch) != 1 || len(ch[0].Reactions) != 0 {
		t.Fatalf("changes after all were taken back: %+v", ch)
	}

	react(t, s, g.ID, m.Seq, bob, "❤️", true, 10)
	del, err := s.DeleteMessage(ctx, g.ID, m.Seq, alice.ID, false, at(11))
	ok(t, err, "DeleteMessage")
	if len(del.Reactions) != 0 {
		t.Fatalf("deleted message keeps reactions %+v", del.Reactions)
	}
	_, _, err = s.React(ctx, g.ID, m.Seq, bob.ID, "👍", true, at(12))
	wantCode(t, err, parley.EINVALID, "React(deleted message)")
	_, _, err = s.React(ctx, g.ID, 1, bob.ID, "👍", true, at(12))
	wantCode(t, err, parley.EINVALID, "React(system message)")
	_, _, err = s.React(ctx, g.ID, 99, bob.ID, "👍", true, at(12))
	wantCode(t, err, parley.ENOTFOUND, "React(no such message)")
}

// At most ReactionsPerPerson emoji per person and ReactionsPerMessage
// different emoji per message; an emoji already there may still be added.
func testReactLimits(t *testing.T, s parley.Store) {
	ctx := context.Background()
	var people []parley.User
	for i := range parley.ReactionsPerMessage + 1 {
		people = append(people, MustUser(t, s, fmt.Sprintf("p%d", i)))
	}
	g := MustGroup(t, s, "Many", people[0], people[1:]...)
	m, _, err := s.AppendMessage(ctx, text(g.ID, people[0], "a1", "react to me", 1))
	ok(t, err, "AppendMessage")
	emoji := []string{"😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "😚", "🙂", "🤗"}
	for i := range parley.ReactionsPerPerson {
		react(t, s, g.ID, m.Seq, people[0], emoji[i], true, 2)
	}
	_, _, err = s.React(ctx, g.ID, m.Seq, people[0].ID, emoji[parley.ReactionsPerPerson], true, at(3))
	wantCode(t, err, parley.ECONFLICT, "React(past the person's limit)")
	for i := parley.ReactionsPerPerson; i < parley.ReactionsPerMessage; i++ {
		react(t, s, g.ID, m.Seq, people[i], emoji[i], true, 4)
	}
	_, _, err = s.React(ctx, g.ID, m.Seq, people[parley.ReactionsPerMessage].ID, emoji[parley.ReactionsPerMessage], true, at(5))
	wantCode(t, err, parley.ECONFLICT, "React(past the message's limit)")
	r, _ := react(t, s, g.ID, m.Seq, people[parley.ReactionsPerMessage], emoji[0], true, 6)
	if len(r.Reactions) != parley.ReactionsPerMessage || r.Reactions[0].Count != 2 {
		t.Fatalf("reactions at the limit: %d emoji, first %+v", len(r.Reactions), r.Reactions[0])
	}
}

// Only members react; a removed member no longer can (their reactions
// stay); the list names at most ReactionUsersShown people.
func testReactWho(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob)
	m, _, err := s.AppendMessage(ctx, text(g.ID, alice, "a1", "hi", 1))
	ok(t, err, "AppendMessage")
	_, _, err = s.React(ctx, g.ID, m.Seq, carol.ID, "👍", true, at(2))
	wantCode(t, err, parley.ENOTFOUND, "React(stranger)")
	react(t, s, g.ID, m.Seq, bob, "👍", true, 3)
	_, err = s.RemoveMember(ctx, g.ID, bob.ID, alice.ID, at(4))
	ok(t, err, "RemoveMember")
	_, _, err = s.React(ctx, g.ID, m.Seq, bob.ID, "👍", false, at(5))
	wantCode(t, err, parley.ENOTFOUND, "React(removed member)")
	got, err := s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "a removed member's reaction", got.Reactions, []parley.Reaction{{Emoji: "👍", Count: 1, Users: []int64{bob.ID}}})

	var many []parley.User
	for i := range parley.ReactionUsersShown + 2 {
		u := MustUser(t, s, fmt.Sprintf("fan%d", i))
		many = append(many, u)
	}
	big := MustGroup(t, s, "Fans", alice, many...)
	bm, _, err := s.AppendMessage(ctx, text(big.ID, alice, "a2", "vote", 1))
	ok(t, err, "AppendMessage")
	var r parley.Message
	for i, u := range many {
		r, _ = react(t, s, big.ID, bm.Seq, u, "✅", true, 2+i)
	}
	if x := r.Reactions[0]; x.Count != len(many) || len(x.Users) != parley.ReactionUsersShown || x.Users[0] != many[0].ID {
		t.Fatalf("many reactions: count %d, %d users named, first %d", x.Count, len(x.Users), x.Users[0])
	}
}
