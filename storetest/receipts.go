package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
)

// BenchReceipts measures SetMarks as receipts call it: 64 goroutines, each
// with its own 4 of 256 direct chats, move the recipient's delivered and
// read marks one message at a time (every call moves one mark by one). The
// variants are the same calls without mark steps (stepsUpTo 0), with steps
// taken in the same minute (each moves the previous step on: the real
// clock) and with a new step for every call (a clock a minute further at
// each call). cpu is the CPU time used so far by everything that serves
// the store (for PostgreSQL, its backends too); cpu-µs/op is its growth
// per call, steadier than ns/op on a shared machine.
func BenchReceipts(b *testing.B, s parley.Store, cpu func() time.Duration) {
	for _, v := range []struct {
		name      string
		stepsUpTo int
		clock     func(i int) time.Time
	}{
		{"steps=off", 0, func(int) time.Time { return time.Now() }},
		{"steps=same-minute", 100, func(int) time.Time { return time.Now() }},
		{"steps=new-minute", 100, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }},
	} {
		b.Run(v.name, func(b *testing.B) { benchReceipts(b, s, v.stepsUpTo, v.clock, cpu) })
	}
}

func benchReceipts(b *testing.B, s parley.Store, stepsUpTo int, clock func(int) time.Time, cpu func() time.Duration) {
	const (
		chats   = 256
		workers = 64
	)
	ctx := context.Background()
	perChat := b.N/chats + 2 // twice what an even share takes
	type chat struct {
		id, recipient, first int64
		ops                  int
	}
	cs := make([]*chat, chats)
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := range chats {
		a := MustUser(b, s, fmt.Sprintf("ra%d", next()))
		r := MustUser(b, s, fmt.Sprintf("rb%d", next()))
		d := MustDirect(b, s, a, r)
		cs[i] = &chat{id: d.ID, recipient: r.ID}
		wg.Go(func() {
			for j := range perChat {
				m, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: d.ID, SenderID: a.ID,
					ClientMsgID: fmt.Sprintf("s%d", j), Kind: parley.MessageText, Text: "hello", CreatedAt: time.Now()})
				if err != nil {
					failed.Store(err)
					return
				}
				if j == 0 {
					cs[i].first = m.Seq
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("AppendMessage: %v", err)
	}
	var worker, op atomic.Int64
	b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
	cpu0 := cpu()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := int(worker.Add(1) - 1)
		if w >= workers {
			return // the others take its share
		}
		for i := 0; pb.Next(); i++ {
			c := cs[w+workers*(i%(chats/workers))]
			if c.ops++; c.ops > 2*perChat {
				return // a worker far ahead of its share; the others finish
			}
			// ops 1, 2, 3, 4…: delivered first, read first, delivered second…
			delivered, read := c.first+int64((c.ops+1)/2)-1, c.first+int64(c.ops/2)-1
			_, changed, err := s.SetMarks(ctx, c.id, c.recipient, delivered, read, clock(int(op.Add(1))), stepsUpTo)
			if err != nil || !changed {
				b.Errorf("SetMarks(%d, %d): changed %v, %v", delivered, read, changed, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpu()-cpu0)/float64(time.Microsecond)/float64(op.Load()), "cpu-µs/op")
}
