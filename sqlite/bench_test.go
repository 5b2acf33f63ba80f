package sqlite_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"parley"
	"parley/storetest"
)

// BenchmarkAppend sends one message at a time: each send is its own commit
// (one fsync).
func BenchmarkAppend(b *testing.B) {
	s := open(b)
	alice := storetest.MustUser(b, s, "alice")
	g := storetest.MustGroup(b, s, "Bench", alice)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.AppendMessage(ctx, parley.NewMessage{
			ConversationID: g.ID, SenderID: alice.ID, ClientMsgID: fmt.Sprintf("m%d", i),
			Kind: parley.MessageText, Text: "hello, this is a benchmark message", CreatedAt: time.Now(),
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendParallel sends from many goroutines at once (GOMAXPROCS ×
// 16 with the default -cpu) into 16 groups: the writer commits the sends
// waiting together in one transaction, so throughput is far above one
// commit per send.
func BenchmarkAppendParallel(b *testing.B) {
	s := open(b)
	const groups = 16
	users := make([]parley.User, groups)
	convs := make([]parley.Conversation, groups)
	for i := range groups {
		users[i] = storetest.MustUser(b, s, fmt.Sprintf("user%d", i))
		convs[i] = storetest.MustGroup(b, s, fmt.Sprintf("Bench %d", i), users[i])
	}
	ctx := context.Background()
	var worker atomic.Int64
	batches0, writes0 := s.BatchStats()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		k := w % groups
		for i := 0; pb.Next(); i++ {
			if _, _, err := s.AppendMessage(ctx, parley.NewMessage{
				ConversationID: convs[k].ID, SenderID: users[k].ID, ClientMsgID: fmt.Sprintf("w%d-%d", w, i),
				Kind: parley.MessageText, Text: "hello, this is a benchmark message", CreatedAt: time.Now(),
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	batches, writes := s.BatchStats()
	b.ReportMetric(float64(writes-writes0)/float64(batches-batches0), "msgs/commit")
}

// BenchmarkAppendDirect sends from 64 goroutines at once into 1,000 direct
// chats (both people sending), the shape of 'parley bench pairs'. cpu-µs/msg
// is the process's CPU time (user + system, senders included) per message:
// steadier than msgs/s on a shared machine.
func BenchmarkAppendDirect(b *testing.B) {
	for _, senders := range []int{64, 2000} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchmarkAppendDirect(b, senders) })
	}
}

func benchmarkAppendDirect(b *testing.B, senders int) {
	s := open(b)
	const pairs = 1000
	users := make([]parley.User, 2*pairs)
	convs := make([]parley.Conversation, pairs)
	for i := range pairs {
		users[2*i] = storetest.MustUser(b, s, fmt.Sprintf("a%d", i))
		users[2*i+1] = storetest.MustUser(b, s, fmt.Sprintf("b%d", i))
		convs[i] = storetest.MustDirect(b, s, users[2*i], users[2*i+1])
	}
	ctx := context.Background()
	var worker atomic.Int64
	batches0, writes0 := s.BatchStats()
	cpu0 := cpuTime()
	b.SetParallelism(max(1, senders/max(1, runtime.GOMAXPROCS(0))))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		for i := 0; pb.Next(); i++ {
			k := (int(w)*7919 + i*31) % (2 * pairs)
			now := time.Now()
			if _, _, err := s.AppendMessage(ctx, parley.NewMessage{
				ConversationID: convs[k/2].ID, SenderID: users[k].ID, ClientMsgID: fmt.Sprintf("w%d-%d", w, i),
				Kind: parley.MessageText, Text: fmt.Sprintf("~bench %d %s", now.UnixNano(), benchText), CreatedAt: now,
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/msg")
	batches, writes := s.BatchStats()
	b.ReportMetric(float64(writes-writes0)/float64(batches-batches0), "msgs/commit")
}

// benchText is BenchmarkAppendDirect's filler: each message is "~bench",
// the time in nanoseconds, then these 100 characters, as 'parley bench
// pairs' sends them (so the search index sees as many distinct trigrams).
var benchText = func() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 "
	b := make([]byte, 100)
	for i := range b {
		b[i] = alphabet[i%len(alphabet)]
	}
	return string(b)
}()

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMessagesPage reads a page of 50 messages from the middle of a
// 10,000-message history.
func BenchmarkMessagesPage(b *testing.B) {
	s := open(b)
	alice := storetest.MustUser(b, s, "alice")
	bob := storetest.MustUser(b, s, "bob")
	d := storetest.MustDirect(b, s, alice, bob)
	fill(b, s, d.ID, []parley.User{alice, bob}, 10_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ms, err := s.Messages(ctx, d.ID, parley.MessageQuery{BeforeSeq: int64(5000 + i%4000), Limit: 50})
		if err != nil || len(ms) != 50 {
			b.Fatalf("Messages: %d messages, %v", len(ms), err)
		}
	}
}

// BenchmarkConversations lists the conversations of a user with 100 direct
// chats and 20 groups, each with some history.
func BenchmarkConversations(b *testing.B) {
	s := open(b)
	me := storetest.MustUser(b, s, "me")
	for i := range 100 {
		peer := storetest.MustUser(b, s, fmt.Sprintf("peer%d", i))
		d := storetest.MustDirect(b, s, me, peer)
		fill(b, s, d.ID, []parley.User{me, peer}, 20)
	}
	for i := range 20 {
		g := storetest.MustGroup(b, s, fmt.Sprintf("Group %d", i), me)
		fill(b, s, g.ID, []parley.User{me}, 20)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		list, err := s.Conversations(ctx, me.ID)
		if err != nil || len(list) != 120 {
			b.Fatalf("Conversations: %d rows, %v", len(list), err)
		}
	}
}

// fill appends n messages to a conversation, from the given members in
// turn, concurrently so that they commit in batches.
func fill(b *testing.B, s parley.Store, conversationID int64, from []parley.User, n int) {
	b.Helper()
	ctx := context.Background()
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			u := from[i%len(from)]
			_, _, err := s.AppendMessage(ctx, parley.NewMessage{
				ConversationID: conversationID, SenderID: u.ID, ClientMsgID: fmt.Sprintf("fill%d", i),
				Kind: parley.MessageText, Text: fmt.Sprintf("message %d", i), CreatedAt: time.Now(),
			})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConversationHeads: a repair check's read, for the conversations
// of a node's connected members.
func BenchmarkConversationHeads(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { storetest.BenchHeads(b, open(b), n) })
	}
}

// BenchmarkReceipts: SetMarks from 64 goroutines, without and with mark
// steps (storetest.BenchReceipts).
func BenchmarkReceipts(b *testing.B) {
	storetest.BenchReceipts(b, open(b), cpuTime)
}
