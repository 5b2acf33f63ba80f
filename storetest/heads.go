package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
)

func sortHeads(h []parley.ConvHead) []parley.ConvHead {
	slices.SortFunc(h, func(a, b parley.ConvHead) int { return int(a.ID - b.ID) })
	return h
}

// Heads follow every change: a new message moves seq and mod, an edit or
// deletion mod only; unknown ids are left out; a user's heads are those of
// their conversations.
func testHeads(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Heads", alice, bob)
	d := MustDirect(t, s, alice, carol)
	other := MustGroup(t, s, "Other", carol)

	c, err := s.Conversation(ctx, g.ID)
	ok(t, err, "Conversation")
	m := MustSend(t, s, g.ID, alice, "one")
	MustSend(t, s, g.ID, bob, "two")
	MustSend(t, s, d.ID, carol, "hi")
	_, err = s.EditMessage(ctx, g.ID, m.Seq, alice.ID, "one, edited", nil, time.Now())
	ok(t, err, "EditMessage")

	got, err := s.ConversationHeads(ctx, []int64{g.ID, d.ID, other.ID + 1000})
	ok(t, err, "ConversationHeads")
	want := []parley.ConvHead{
		{ID: g.ID, LastSeq: c.LastSeq + 2, LastMod: c.LastMod + 3},
		{ID: d.ID, LastSeq: 1, LastMod: 1},
	}
	if !slices.Equal(sortHeads(got), sortHeads(want)) {
		t.Fatalf("ConversationHeads = %+v, want %+v", got, want)
	}
	for _, id := range []int64{g.ID, d.ID} {
		conv, err := s.Conversation(ctx, id)
		ok(t, err, "Conversation")
		if i := slices.IndexFunc(got, func(h parley.ConvHead) bool { return h.ID == id }); got[i].LastSeq != conv.LastSeq || got[i].LastMod != conv.LastMod {
			t.Errorf("head of %d = %+v, conversation says seq %d mod %d", id, got[i], conv.LastSeq, conv.LastMod)
		}
	}
	if got, err := s.ConversationHeads(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("ConversationHeads(nil) = %v, %v", got, err)
	}

	mine, err := s.UserConversationHeads(ctx, alice.ID)
	ok(t, err, "UserConversationHeads")
	if !slices.Equal(mine, want) { // ascending by id: g was created first
		t.Fatalf("UserConversationHeads(alice) = %+v, want %+v", mine, want)
	}
	if none, err := s.UserConversationHeads(ctx, MustUser(t, s, "dave").ID); err != nil || len(none) != 0 {
		t.Errorf("UserConversationHeads(dave) = %v, %v", none, err)
	}
}

// Many ids at once (more than one query's worth in either store).
func testHeadsMany(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	g := MustGroup(t, s, "Many", alice)
	MustSend(t, s, g.ID, alice, "one")
	ids := make([]int64, 12000)
	for i := range ids {
		ids[i] = g.ID + int64(i)*7919 + 1_000_000
	}
	ids[len(ids)-1] = g.ID
	got, err := s.ConversationHeads(ctx, ids)
	ok(t, err, "ConversationHeads")
	if len(got) != 1 || got[0].ID != g.ID || got[0].LastSeq < 1 {
		t.Fatalf("ConversationHeads of 12,000 ids = %+v", got)
	}
}

// MustGroups creates n groups owned by owner, from several goroutines at
// once, and returns their ids.
func MustGroups(tb testing.TB, s parley.Store, owner parley.User, n int) []int64 {
	tb.Helper()
	ids := make([]int64, n)
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first atomic.Pointer[error]
	)
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || first.Load() != nil {
					return
				}
				c, _, err := s.CreateGroup(context.Background(), fmt.Sprintf("g%d", i), fmt.Sprintf("code-%d-%d", owner.ID, i), owner.ID, time.Now())
				if err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				ids[i] = c.ID
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		tb.Fatalf("CreateGroup: %v", *err)
	}
	return ids
}

// BenchHeads measures ConversationHeads of n conversations: what a node's
// repair check reads every interval for the conversations of its
// connected members.
func BenchHeads(b *testing.B, s parley.Store, n int) {
	ids := MustGroups(b, s, MustUser(b, s, fmt.Sprintf("owner%d", next())), n)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		heads, err := s.ConversationHeads(ctx, ids)
		if err != nil || len(heads) != n {
			b.Fatalf("ConversationHeads: %d heads, %v", len(heads), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/conversation")
}
