package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/storetest"
)

// BenchmarkAppendParallel measures AppendMessage from parallel senders
// (GOMAXPROCS × -cpu goroutines; scale with -cpu or b.SetParallelism). In
// OneConversation every goroutine appends to one group, so appends queue
// on its row lock; in ManyConversations each goroutine has its own group
// and appends only share the database's commits.
func BenchmarkAppendParallel(b *testing.B) {
	for _, bc := range []struct {
		name   string
		groups int
	}{
		{"OneConversation", 1},
		{"ManyConversations", 256},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newStore(b)
			owner := storetest.MustUser(b, s, "owner")
			groups := make([]parley.Conversation, bc.groups)
			for i := range groups {
				groups[i] = storetest.MustGroup(b, s, fmt.Sprintf("g%d", i), owner)
			}
			var worker, msgID atomic.Int64
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				g := groups[int(worker.Add(1)-1)%len(groups)]
				for pb.Next() {
					_, created, err := s.AppendMessage(ctx, parley.NewMessage{
						ConversationID: g.ID,
						SenderID:       owner.ID,
						ClientMsgID:    fmt.Sprintf("b%d", msgID.Add(1)),
						Kind:           parley.MessageText,
						Text:           "benchmark message",
						CreatedAt:      time.Now(),
					})
					if err != nil || !created {
						b.Errorf("AppendMessage: created %v, %v", created, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkConversationHeads: a repair check's read, for the conversations
// of a node's connected members.
func BenchmarkConversationHeads(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { storetest.BenchHeads(b, newStore(b), n) })
	}
}
