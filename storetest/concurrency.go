package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"parley"
)

// testConcurrentAppends: many senders appending to one group at once get a
// gap-free, duplicate-free sequence, and history reads back in seq order.
func testConcurrentAppends(t *testing.T, s parley.Store) {
	ctx := context.Background()
	const workers, perWorker = 20, 200
	owner := MustUser(t, s, "owner")
	users := make([]parley.User, workers)
	for i := range users {
		users[i] = MustUser(t, s, fmt.Sprintf("user%02d", i))
	}
	g := MustGroup(t, s, "Busy", owner, users...)
	base := g.LastSeq

	results := make([][]parley.Message, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				m, created, err := s.AppendMessage(ctx, parley.NewMessage{
					ConversationID: g.ID,
					SenderID:       users[w].ID,
					ClientMsgID:    fmt.Sprintf("w%d-%d", w, i),
					Kind:           parley.MessageText,
					Text:           fmt.Sprintf("message %d from worker %d", i, w),
					CreatedAt:      time.Now(),
				})
				if err == nil && !created {
					err = fmt.Errorf("append %d: created = false", i)
				}
				if err != nil {
					errs[w] = err
					return
				}
				results[w] = append(results[w], m)
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		ok(t, err, fmt.Sprintf("worker %d", w))
	}

	bySeq := map[int64]parley.Message{}
	for w, ms := range results {
		for i, m := range ms {
			if i > 0 && m.Seq <= ms[i-1].Seq {
				t.Fatalf("worker %d: seq went from %d to %d", w, ms[i-1].Seq, m.Seq)
			}
			if prev, dup := bySeq[m.Seq]; dup {
				t.Fatalf("seq %d given to %q and %q", m.Seq, prev.ClientMsgID, m.ClientMsgID)
			}
			bySeq[m.Seq] = m
		}
	}
	for seq := base + 1; seq <= base+workers*perWorker; seq++ {
		if _, ok := bySeq[seq]; !ok {
			t.Fatalf("seq %d missing (a gap)", seq)
		}
	}
	if len(bySeq) != workers*perWorker {
		t.Fatalf("%d distinct seqs, want %d", len(bySeq), workers*perWorker)
	}
	c := mustConversation(t, s, g.ID)
	if c.LastSeq != base+workers*perWorker {
		t.Fatalf("last_seq = %d, want %d", c.LastSeq, base+workers*perWorker)
	}

	// History, page by page, is every acknowledged message in seq order.
	after, n := base, 0
	for {
		page, err := s.Messages(ctx, g.ID, parley.MessageQuery{AfterSeq: after, Limit: parley.PageSizeMax})
		ok(t, err, "Messages")
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if m.Seq != after+1 {
				t.Fatalf("history: seq %d after %d", m.Seq, after)
			}
			same(t, fmt.Sprintf("history seq %d", m.Seq), m, bySeq[m.Seq])
			after = m.Seq
			n++
		}
	}
	if n != workers*perWorker {
		t.Fatalf("history holds %d messages, want %d", n, workers*perWorker)
	}
}

// testConcurrentSameClientMsgID: one send repeated concurrently is stored
// once, and every caller gets the same message.
func testConcurrentSameClientMsgID(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	MustSend(t, s, d.ID, bob, "before")

	const n = 50
	msgs := make([]parley.Message, n)
	created := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			msgs[i], created[i], errs[i] = s.AppendMessage(ctx, text(d.ID, alice, "retry-me", "once only", 1))
		})
	}
	close(start)
	wg.Wait()

	createdCount := 0
	for i := range n {
		ok(t, errs[i], "AppendMessage")
		same(t, fmt.Sprintf("result %d", i), msgs[i], msgs[0])
		if created[i] {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Fatalf("%d of %d appends report created, want 1", createdCount, n)
	}
	if msgs[0].Seq != 2 {
		t.Fatalf("seq = %d, want 2", msgs[0].Seq)
	}
	ms, err := s.Messages(ctx, d.ID, parley.MessageQuery{Limit: 10})
	ok(t, err, "Messages")
	if got := seqs(ms); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("history = %v, want [1 2]", got)
	}
}

// testConcurrentMarks: marks set from many goroutines in any order only
// ever move forward, and end at the highest values set.
func testConcurrentMarks(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	const last = 100
	for i := range last {
		MustSendAt(t, s, d.ID, bob, fmt.Sprintf("m%d", i), at(i))
	}

	const workers = 20
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var prev parley.Member
			for _, v := range rand.Perm(last) {
				delivered, read := int64(v+1), int64(v)
				m, _, err := s.SetMarks(ctx, d.ID, alice.ID, delivered, read, at(0), 100)
				switch {
				case err != nil:
				case m.DeliveredSeq < prev.DeliveredSeq || m.ReadSeq < prev.ReadSeq:
					err = fmt.Errorf("marks went back from %d/%d to %d/%d", prev.DeliveredSeq, prev.ReadSeq, m.DeliveredSeq, m.ReadSeq)
				case m.DeliveredSeq < delivered || m.ReadSeq < read:
					err = fmt.Errorf("SetMarks(%d, %d) left marks at %d/%d", delivered, read, m.DeliveredSeq, m.ReadSeq)
				case m.ReadSeq > m.DeliveredSeq || m.DeliveredSeq > last:
					err = fmt.Errorf("marks %d/%d break read <= delivered <= %d", m.DeliveredSeq, m.ReadSeq, last)
				}
				if err != nil {
					errs[w] = err
					return
				}
				prev = m
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		ok(t, err, fmt.Sprintf("worker %d", w))
	}
	if m := mustMember(t, s, d.ID, alice.ID); m.DeliveredSeq != last || m.ReadSeq != last-1 {
		t.Fatalf("final marks %d/%d, want %d/%d", m.DeliveredSeq, m.ReadSeq, last, last-1)
	}
}
