package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"parley"
	"parley/hub"
	"parley/service"
	"parley/sqlite"
	"parley/storetest"
)

// BenchmarkSync is a reconnecting device's catch-up: the user is in 50
// direct conversations and missed 200 messages in each (10,000 in all);
// one op is one sync, every conversation's result encoded as the
// WebSocket sends it.
func BenchmarkSync(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	bus := hub.NewBus()
	defer bus.Close()
	svc, err := service.New(store, bus, service.Config{Hash: service.HashParams{Memory: 8 * 1024, Time: 1}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	const convs, perConv = 50, 200
	me := storetest.MustUser(b, store, "me")
	cursors := make(map[int64]service.Cursor, convs)
	errs := make(chan error, convs)
	for i := range convs {
		peer := storetest.MustUser(b, store, fmt.Sprintf("peer%d", i))
		c := storetest.MustDirect(b, store, me, peer)
		cursors[c.ID] = service.Cursor{Seq: c.LastSeq, Mod: c.LastMod}
		go func() { // concurrent senders commit in batches
			for j := range perConv {
				_, _, err := store.AppendMessage(ctx, parley.NewMessage{ConversationID: c.ID, SenderID: peer.ID,
					ClientMsgID: fmt.Sprintf("m%d", j), Kind: parley.MessageText,
					Text: "a message of about a hundred characters, missed while the device was away from the network", CreatedAt: time.Now()})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range convs {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n, bytes := 0, 0
		err := svc.Sync(ctx, me.ID, cursors, func(r service.SyncResult) error {
			n += len(r.Messages)
			frame, err := json.Marshal(r)
			bytes += len(frame)
			return err
		})
		if err != nil || n != convs*perConv {
			b.Fatalf("sync: %d messages, %v", n, err)
		}
		b.SetBytes(int64(bytes))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/sync")
}
