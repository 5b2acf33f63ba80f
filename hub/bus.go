// Package hub holds what lives inside one node: the in-process Bus (the
// default parley.Bus for a single-node deployment) and the registry of the
// node's live connections.
package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"parley"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("hub: bus closed")

// Bus is the in-process parley.Bus: the default when Parley runs as one node.
// Publish calls the topic's handlers synchronously, on the publisher's
// goroutine, so messages from one publisher to one topic arrive in publish
// order, and Publish returns once every handler has returned.
//
// Concurrency: mu guards subs only. The per-topic slices are copy-on-write:
// Subscribe and unsubscribe replace a topic's slice and never modify one in
// place, so Publish takes the read lock just long enough to load the slice
// and calls the handlers with no lock held. Handlers may therefore publish,
// subscribe and unsubscribe themselves.
type Bus struct {
	mu     sync.RWMutex
	subs   map[string][]*subscription // topic → subscribers, never modified in place
	closed bool
}

// subscription is one Subscribe call. active is cleared by unsubscribe, so a
// Publish that loaded the topic's slice before the unsubscribe no longer
// calls the handler: once unsubscribe returns, the handler is not called
// again (a call already running finishes).
type subscription struct {
	handler func(data []byte)
	active  atomic.Bool
}

var _ parley.Bus = (*Bus)(nil)

// NewBus returns an empty in-process bus.
func NewBus() *Bus {
	return &Bus{subs: make(map[string][]*subscription)}
}

// Publish calls every handler subscribed to topic with a copy of data, made
// once and shared by the handlers (who must not modify it), so the caller
// may reuse data as soon as Publish returns. It fails if ctx is done or the
// bus is closed.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	subs, closed := b.subs[topic], b.closed
	b.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if len(subs) == 0 {
		return nil
	}
	buf := make([]byte, len(data))
	copy(buf, data)
	for _, s := range subs {
		if s.active.Load() {
			s.handler(buf)
		}
	}
	return nil
}

// Subscribe registers handler for topic. The returned unsubscribe may be
// called any number of times, from any goroutine, including the handler.
func (b *Bus) Subscribe(topic string, handler func(data []byte)) (unsubscribe func(), err error) {
	if handler == nil {
		return nil, errors.New("hub: nil handler")
	}
	s := &subscription{handler: handler}
	s.active.Store(true)

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	old := b.subs[topic]
	subs := make([]*subscription, len(old), len(old)+1)
	copy(subs, old)
	b.subs[topic] = append(subs, s)

	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(topic, s) }) }, nil
}

func (b *Bus) unsubscribe(topic string, s *subscription) {
	s.active.Store(false)
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.subs[topic]
	i := indexOf(old, s)
	if i < 0 {
		return // removed by Close
	}
	if len(old) == 1 {
		delete(b.subs, topic)
		return
	}
	subs := make([]*subscription, 0, len(old)-1)
	subs = append(subs, old[:i]...)
	b.subs[topic] = append(subs, old[i+1:]...)
}

func indexOf(subs []*subscription, s *subscription) int {
	for i, x := range subs {
		if x == s {
			return i
		}
	}
	return -1
}

// Close drops every subscription; later Publish and Subscribe calls fail
// with ErrClosed. Handlers already running finish. Close is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for _, subs := range b.subs {
		for _, s := range subs {
			s.active.Store(false)
		}
	}
	b.subs = nil
	return nil
}
