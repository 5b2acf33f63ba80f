package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
	"parley/pgtest"
	"parley/postgres"
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

// BenchmarkReceipts: SetMarks from 64 goroutines, without and with mark
// steps (storetest.BenchReceipts). cpu-µs/op counts this process and the
// PostgreSQL backends serving its store (read from /proc: the database
// must run on this machine).
func BenchmarkReceipts(b *testing.B) {
	s, cpu := openMeasured(b)
	storetest.BenchReceipts(b, s, cpu)
}

// BenchmarkAppendSearchIndex: what the search index costs a send.
// AppendMessage from GOMAXPROCS goroutines (set it with -cpu) into 256
// groups with the search index, with it written at once (fastupdate off:
// no pending list) and without it (messages_search dropped); cpu-µs/msg
// counts this process and the PostgreSQL backends serving its store,
// steadier than msgs/s on a shared machine.
func BenchmarkAppendSearchIndex(b *testing.B) {
	for _, bc := range []struct{ name, change string }{
		{"index", ``},
		{"fastupdate=off", `ALTER INDEX messages_search SET (fastupdate = off)`},
		{"none", `DROP INDEX messages_search`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, cpu := openMeasured(b)
			ctx := context.Background()
			if bc.change != `` {
				postgres.WaitSearchIndex(s) // else Open's check may build the index again
				if _, err := s.Pool().Exec(ctx, bc.change); err != nil {
					b.Fatal(err)
				}
			}
			owner := storetest.MustUser(b, s, "owner")
			groups := make([]parley.Conversation, 256)
			for i := range groups {
				groups[i] = storetest.MustGroup(b, s, fmt.Sprintf("g%d", i), owner)
			}
			var worker, msgID atomic.Int64
			cpu0 := cpu()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				g := groups[int(worker.Add(1)-1)%len(groups)]
				for pb.Next() {
					n := msgID.Add(1)
					_, created, err := s.AppendMessage(ctx, parley.NewMessage{
						ConversationID: g.ID, SenderID: owner.ID, ClientMsgID: fmt.Sprintf("b%d", n), Kind: parley.MessageText,
						Text: fmt.Sprintf("message %d: see you tomorrow at the meeting, 会議室は三階です", n), CreatedAt: time.Now(),
					})
					if err != nil || !created {
						b.Errorf("AppendMessage: created %v, %v", created, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(cpu()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/msg")
		})
	}
}

// openMeasured opens a store in a fresh schema and returns it with a
// function that tells the CPU time used so far by this process and the
// PostgreSQL backends serving the store (read from /proc: the database
// must run on this machine).
func openMeasured(b *testing.B) (*postgres.Store, func() time.Duration) {
	pgtest.Need(b)
	app := fmt.Sprintf("parley-bench-%d", os.Getpid())
	s, err := postgres.Open(context.Background(), pgtest.WithParams(b, pgtest.BaseURL(),
		map[string]string{"search_path": newSchema(b), "application_name": app}))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	conn, err := pgtest.Connect(context.Background(), pgtest.BaseURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	// Backends that ended take their CPU time with them: gone keeps it.
	seen := map[int]time.Duration{}
	return s, func() time.Duration {
		rows, err := conn.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
		if err != nil {
			b.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			b.Fatal(err)
		}
		for _, pid := range pids {
			if t, ok := procCPU(int(pid)); ok {
				seen[int(pid)] = t
			}
		}
		total := cpuTime()
		for _, t := range seen {
			total += t
		}
		return total
	}
}

// procCPU is the CPU time (user + system) of process pid so far.
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command (which may hold spaces) in parentheses;
	// utime and stime are the 14th and 15th, in clock ticks (100 a second).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * 10 * time.Millisecond, true
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
