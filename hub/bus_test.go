package hub_test

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"

	"parley"
	"parley/bustest"
	"parley/hub"
)

func TestBus(t *testing.T) {
	bustest.Run(t, func(t *testing.T) []parley.Bus {
		b := hub.NewBus()
		t.Cleanup(func() { b.Close() })
		// One process is one deployment: every "node" is the same bus.
		return []parley.Bus{b, b}
	})
}

// Publish is synchronous: when it returns, every handler has run.
func TestPublishIsSynchronous(t *testing.T) {
	b := hub.NewBus()
	defer b.Close()
	var got []string
	for range 3 {
		if _, err := b.Subscribe("t", func(d []byte) { got = append(got, string(d)) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(context.Background(), "t", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("after Publish returned, %d handlers had run, want 3", len(got))
	}
}

// Subscribing and unsubscribing while other goroutines publish is safe, and
// a Publish that starts after unsubscribe returned never calls the handler.
func TestUnsubscribeDuringPublish(t *testing.T) {
	b := hub.NewBus()
	defer b.Close()
	// gen is the number of subscriptions unsubscribed so far. Publishers
	// send the gen they saw before calling Publish; subscription g must
	// never get a gen above g.
	var gen atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				data := binary.AppendVarint(nil, gen.Load())
				if err := b.Publish(context.Background(), "t", data); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for g := range int64(2000) {
		unsub, err := b.Subscribe("t", func(data []byte) {
			if v, _ := binary.Varint(data); v > g {
				t.Errorf("subscription %d called by a Publish that started after its unsubscribe returned", g)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		unsub()
		gen.Store(g + 1)
	}
	close(stop)
	wg.Wait()
}

func TestNilHandler(t *testing.T) {
	b := hub.NewBus()
	defer b.Close()
	if _, err := b.Subscribe("t", nil); err == nil {
		t.Fatal("Subscribe with a nil handler succeeded")
	}
}
