package client

import (
	"slices"
	"testing"
	"time"

	"parley"
)

func msg(seq, mod int64) parley.Message {
	return parley.Message{ConversationID: 1, Seq: seq, Mod: mod, Kind: parley.MessageText, Text: "m"}
}

func seqs(out []delivery) []int64 {
	var s []int64
	for _, d := range out {
		s = append(s, d.msg.Seq)
	}
	return s
}

func TestOrderInSequence(t *testing.T) {
	cs := &convState{}
	cs.base(0, 0)
	var out []delivery
	for i := int64(1); i <= 3; i++ {
		out = cs.add(msg(i, i), true, out)
	}
	if got := seqs(out); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("delivered %v", got)
	}
	if c := cs.cursor(); c != (Cursor{Seq: 3, Mod: 3}) {
		t.Fatalf("cursor %+v", c)
	}
}

func TestOrderHoldsOutOfOrderAndDropsDuplicates(t *testing.T) {
	cs := &convState{}
	cs.base(0, 0)
	out := cs.add(msg(3, 3), true, nil)
	out = cs.add(msg(5, 5), true, out)
	if len(out) != 0 {
		t.Fatalf("delivered %v before the gap closed", seqs(out))
	}
	if cs.minPending() != 3 {
		t.Fatalf("minPending = %d", cs.minPending())
	}
	out = cs.add(msg(1, 1), true, out)
	out = cs.add(msg(3, 3), true, out) // duplicate while held
	out = cs.add(msg(2, 2), true, out)
	out = cs.add(msg(2, 2), true, out) // duplicate after delivery
	if got := seqs(out); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("delivered %v", got)
	}
	if len(cs.pending) != 1 {
		t.Fatalf("pending %v", cs.pending)
	}
	out = cs.add(msg(4, 4), false, out[:0])
	if got := seqs(out); !slices.Equal(got, []int64{4, 5}) {
		t.Fatalf("delivered %v", got)
	}
	if cs.pending != nil || cs.cursor() != (Cursor{Seq: 5, Mod: 5}) {
		t.Fatalf("pending %v cursor %+v", cs.pending, cs.cursor())
	}
}

func TestOrderFirstMessageBasesUnknownConversation(t *testing.T) {
	cs := &convState{}
	out := cs.add(msg(41, 50), true, nil)
	if got := seqs(out); !slices.Equal(got, []int64{41}) {
		t.Fatalf("delivered %v", got)
	}
	if c := cs.cursor(); c != (Cursor{Seq: 41, Mod: 50}) {
		t.Fatalf("cursor %+v", c)
	}
	// Changes to an unbased conversation are ignored.
	other := &convState{}
	if out := other.change(msg(3, 9), ChangeEdited, nil); len(out) != 0 || other.based {
		t.Fatalf("change on unbased conversation: %v", out)
	}
}

func TestOrderChanges(t *testing.T) {
	cs := &convState{}
	cs.base(0, 0)
	out := cs.add(msg(1, 1), true, nil)
	out = cs.add(msg(2, 2), true, out)
	edited := msg(1, 3)
	edited.Text = "edited"
	out = cs.change(edited, ChangeEdited, out[:0])
	out = cs.change(edited, ChangeEdited, out) // the same change again
	if len(out) != 1 || out[0].change != ChangeEdited || out[0].msg.Text != "edited" {
		t.Fatalf("changes delivered: %+v", out)
	}
	// An edit of a message not yet delivered replaces the held version and
	// comes as new in its turn.
	e4 := msg(4, 6)
	e4.Text = "four, edited"
	out = cs.change(e4, ChangeEdited, out[:0])
	out = cs.add(msg(4, 5), true, out) // the older version arrives late
	if len(out) != 0 {
		t.Fatalf("delivered %v early", seqs(out))
	}
	out = cs.add(msg(3, 4), true, out)
	if got := seqs(out); !slices.Equal(got, []int64{3, 4}) || out[1].msg.Text != "four, edited" || out[1].change != ChangeNew {
		t.Fatalf("delivered %+v", out)
	}
	if c := cs.cursor(); c != (Cursor{Seq: 4, Mod: 6}) {
		t.Fatalf("cursor %+v", c)
	}
	// The next change of message 4 is delivered as a change.
	d4 := msg(4, 7)
	d4.Text, d4.DeletedAt = "", &time.Time{}
	out = cs.change(d4, changeKind(d4), out[:0])
	if len(out) != 1 || out[0].change != ChangeDeleted {
		t.Fatalf("delivered %+v", out)
	}
}

func TestOrderEditedNextMessageIsDeliveredAsNew(t *testing.T) {
	cs := &convState{}
	cs.base(0, 0)
	out := cs.change(msg(1, 2), ChangeEdited, nil)
	if len(out) != 1 || out[0].change != ChangeNew {
		t.Fatalf("delivered %+v", out)
	}
	out = cs.add(msg(1, 1), true, out[:0]) // its creation event, late
	if len(out) != 0 {
		t.Fatalf("delivered %+v", out)
	}
	if c := cs.cursor(); c != (Cursor{Seq: 1, Mod: 2}) {
		t.Fatalf("cursor %+v", c)
	}
}

func TestOrderModCursorNeverPassesUnseenChange(t *testing.T) {
	cs := &convState{}
	cs.base(10, 10)
	cs.noteMod(12)
	cs.noteMod(14)
	if cs.mod != 10 || !slices.Equal(cs.ahead, []int64{12, 14}) {
		t.Fatalf("mod %d ahead %v", cs.mod, cs.ahead)
	}
	if !cs.applied(12) || cs.applied(13) || !cs.applied(9) {
		t.Fatal("applied is wrong")
	}
	cs.noteMod(11)
	if cs.mod != 12 || !slices.Equal(cs.ahead, []int64{14}) {
		t.Fatalf("mod %d ahead %v", cs.mod, cs.ahead)
	}
	cs.noteMod(13)
	if cs.mod != 14 || cs.ahead != nil {
		t.Fatalf("mod %d ahead %v", cs.mod, cs.ahead)
	}
	// A sync raises the cursor and absorbs what continues it.
	cs.noteMod(16)
	cs.noteMod(17)
	cs.noteMod(30)
	cs.raiseMod(15)
	if cs.mod != 17 || !slices.Equal(cs.ahead, []int64{30}) {
		t.Fatalf("mod %d ahead %v", cs.mod, cs.ahead)
	}
	cs.raiseMod(40)
	if cs.mod != 40 || cs.ahead != nil {
		t.Fatalf("mod %d ahead %v", cs.mod, cs.ahead)
	}
}

func TestOrderAheadIsBounded(t *testing.T) {
	cs := &convState{}
	cs.base(0, 0)
	for m := int64(1000); m > 2; m-- {
		cs.noteMod(m)
	}
	if len(cs.ahead) != maxAhead || cs.ahead[0] != 3 {
		t.Fatalf("ahead has %d entries from %d", len(cs.ahead), cs.ahead[0])
	}
	cs.noteMod(1)
	cs.noteMod(2)
	if cs.mod != 2+maxAhead {
		t.Fatalf("mod %d", cs.mod)
	}
}

// TestOrderRandomArrival feeds the same messages in random order, with
// duplicates and newer versions, and checks each seq comes once, in order.
func TestOrderRandomArrival(t *testing.T) {
	const n = 500
	for round := 0; round < 20; round++ {
		var feed []parley.Message
		for s := int64(1); s <= n; s++ {
			feed = append(feed, msg(s, s))
			if s%7 == 0 {
				feed = append(feed, msg(s, s)) // duplicate
			}
		}
		shuffle(feed, uint64(round))
		cs := &convState{}
		cs.base(0, 0)
		var out []delivery
		for _, m := range feed {
			out = cs.add(m, true, out)
		}
		got := seqs(out)
		if len(got) != n {
			t.Fatalf("round %d: %d delivered", round, len(got))
		}
		for i, s := range got {
			if s != int64(i+1) {
				t.Fatalf("round %d: position %d has seq %d", round, i, s)
			}
		}
		// The mod cursor may stay behind when more than maxAhead changes
		// came early (it never passes one not seen), but not past n.
		if c := cs.cursor(); c.Seq != n || c.Mod > n || cs.pending != nil || len(cs.ahead) > maxAhead {
			t.Fatalf("round %d: cursor %+v ahead %d pending %d", round, c, len(cs.ahead), len(cs.pending))
		}
		// Arrivals that are only locally out of order keep the mod exact.
		cs = &convState{}
		cs.base(0, 0)
		out = out[:0]
		slices.SortFunc(feed, func(a, b parley.Message) int { return int(a.Seq - b.Seq) })
		for i := 0; i < len(feed); i += 10 {
			chunk := feed[i:min(i+10, len(feed))]
			shuffle(chunk, uint64(i+round))
			for _, m := range chunk {
				out = cs.add(m, true, out)
			}
		}
		if c := cs.cursor(); c != (Cursor{Seq: n, Mod: n}) || cs.ahead != nil {
			t.Fatalf("round %d: local disorder: cursor %+v ahead %v", round, c, cs.ahead)
		}
	}
}

// shuffle is a deterministic Fisher-Yates shuffle.
func shuffle[T any](s []T, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := len(s) - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i+1))
		s[i], s[j] = s[j], s[i]
	}
}
