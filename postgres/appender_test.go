package postgres_test

import (
	"testing"
	"time"

	"parley"
	"parley/postgres"
	"parley/storetest"
)

// Appends committed together keep every promise of appends committed
// alone, and one bad append does not fail the others.
func TestAppendBatch(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	alice := storetest.MustUser(t, s, "alice")
	bob := storetest.MustUser(t, s, "bob")
	carol := storetest.MustUser(t, s, "carol")
	g := storetest.MustGroup(t, s, "g", alice, bob)
	h := storetest.MustGroup(t, s, "h", bob)
	now := time.Now()
	text := func(conv int64, u parley.User, id string) parley.NewMessage {
		return parley.NewMessage{ConversationID: conv, SenderID: u.ID, ClientMsgID: id, Kind: parley.MessageText, Text: id, CreatedAt: now}
	}

	t.Run("Clean", func(t *testing.T) {
		msgs, created, errs := postgres.AppendBatch(ctx, s,
			text(h.ID, bob, "h1"),
			text(g.ID, alice, "g1"),
			text(h.ID, bob, "h2"),
			text(g.ID, bob, "g2"),
			text(g.ID, alice, "g1"), // resent within the batch
			text(g.ID, carol, "c1"), // not a member
		)
		for i := range 4 {
			if errs[i] != nil || !created[i] {
				t.Fatalf("append %d: created %v, %v", i, created[i], errs[i])
			}
		}
		if got := []int64{msgs[0].Seq, msgs[1].Seq, msgs[2].Seq, msgs[3].Seq}; got[0] != h.LastSeq+1 || got[1] != g.LastSeq+1 || got[2] != h.LastSeq+2 || got[3] != g.LastSeq+2 {
			t.Fatalf("seqs %v, want h %d, g %d, h %d, g %d", got, h.LastSeq+1, g.LastSeq+1, h.LastSeq+2, g.LastSeq+2)
		}
		if errs[4] != nil || created[4] || msgs[4].ID != msgs[1].ID {
			t.Fatalf("resend in the batch: created %v, id %d, %v; want the original %d", created[4], msgs[4].ID, errs[4], msgs[1].ID)
		}
		if code := parley.ErrorCode(errs[5]); code != parley.ENOTFOUND {
			t.Fatalf("non-member in the batch: code %q, want %q", code, parley.ENOTFOUND)
		}
		for _, m := range msgs[:5] {
			if m.Sender == nil || m.Sender.ID != m.SenderID {
				t.Fatalf("message %d: sender %+v", m.Seq, m.Sender)
			}
		}
	})

	t.Run("OneFails", func(t *testing.T) {
		before, err := s.Conversation(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		msgs, created, errs := postgres.AppendBatch(ctx, s,
			text(g.ID, alice, "x1"),
			// A system message by a user who does not exist breaks the
			// batch's transaction.
			parley.NewMessage{ConversationID: g.ID, SenderID: carol.ID + 1000, Kind: parley.MessageSystem,
				System: &parley.SystemInfo{Event: parley.SysCall, ActorID: carol.ID + 1000}, CreatedAt: now},
			text(g.ID, bob, "x2"),
			text(g.ID+h.ID+1000, bob, "x3"), // no such conversation
		)
		if errs[0] != nil || errs[2] != nil || !created[0] || !created[2] {
			t.Fatalf("good appends next to a bad one: %v, %v", errs[0], errs[2])
		}
		if msgs[0].Seq != before.LastSeq+1 || msgs[2].Seq != before.LastSeq+2 {
			t.Fatalf("seqs %d, %d; want %d, %d", msgs[0].Seq, msgs[2].Seq, before.LastSeq+1, before.LastSeq+2)
		}
		if code := parley.ErrorCode(errs[1]); code != parley.ENOTFOUND {
			t.Fatalf("system message by nobody: code %q (%v), want %q", code, errs[1], parley.ENOTFOUND)
		}
		if code := parley.ErrorCode(errs[3]); code != parley.ENOTFOUND {
			t.Fatalf("unknown conversation: code %q (%v), want %q", code, errs[3], parley.ENOTFOUND)
		}
		after, err := s.Conversation(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.LastSeq != before.LastSeq+2 {
			t.Fatalf("last_seq %d, want %d (no gap, nothing extra)", after.LastSeq, before.LastSeq+2)
		}
		page, err := s.Messages(ctx, g.ID, parley.MessageQuery{AfterSeq: before.LastSeq})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].ClientMsgID != "x1" || page[1].ClientMsgID != "x2" {
			t.Fatalf("stored %+v, want x1 and x2", page)
		}
	})
}
