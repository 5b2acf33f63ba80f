package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"parley"
	"parley/hub"
	"parley/service"
)

// BenchmarkFanout is the fan-out hot path of one new message in a group of
// n connected members: encode the event once, publish it on the in-process
// bus, and let the registry queue the same bytes on every connection (the
// writers, which would write the sockets, are held off). One op is one
// message to every member; ns/delivery is per connection.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			bus := hub.NewBus()
			defer bus.Close()
			reg := hub.NewRegistry(bus, nil)
			srv := NewServer(nil, reg, nil, Config{}, nil)
			const convID = 7
			conns := make([]*Conn, n)
			for i := range conns {
				c := newConn(srv, nil, parley.User{ID: int64(i + 1)}, parley.Session{ID: int64(i + 1)}, fmt.Sprintf("n-%d", i))
				c.writing = true // no writer: nothing to write to
				if _, err := reg.Register(c, []int64{convID}); err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			sender := &parley.UserRef{ID: 1, Username: "alice", DisplayName: "Alice"}
			now := time.Now().UTC().Truncate(time.Microsecond)
			ctx := context.Background()
			topic := parley.ConversationTopic(convID)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				m := parley.Message{ID: int64(i), ConversationID: convID, Seq: int64(i + 1), Mod: int64(i + 1), SenderID: 1,
					Sender: sender, ClientMsgID: fmt.Sprintf("c-%d", i), Kind: parley.MessageText,
					Text: "hello, this is a benchmark message of about a hundred characters, sent to every member.", CreatedAt: now}
				frame, err := json.Marshal(service.MessageFrame{Ev: "message", Change: "new", Message: m})
				if err != nil {
					b.Fatal(err)
				}
				ev := parley.MarshalEvent(parley.Event{Type: parley.EventFrame, ConversationID: convID, Seq: m.Seq, Frame: frame})
				if err := bus.Publish(ctx, topic, ev); err != nil {
					b.Fatal(err)
				}
				if i%500 == 499 { // stay under the queue bound, as the writers would
					for _, c := range conns {
						c.mu.Lock()
						clear(c.queue)
						srv.charge(-c.queueCost)
						c.queue, c.queueBytes, c.queueCost, c.queueSince = c.queue[:0], 0, 0, 0
						c.mu.Unlock()
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
		})
	}
}
