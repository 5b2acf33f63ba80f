package ws

import (
	"cmp"
	"slices"
	"time"

	"parley/hub"
)

// # Slow consumers
//
// Each connection's outbound queue is what the server has for the client
// and has not yet written to its socket: the frames waiting, and the batch
// being written. A client is judged by how far behind it is, not by how
// many frames wait (a fast client of a busy group may have a thousand
// small frames queued and be 40 ms behind):
//
//   - bytes: the queue (with events held during a sync) may hold at most
//     QueueBytes (4 MiB);
//   - age: the client's socket must take what is written to it within
//     QueueAge (5 s): a write still waiting for the socket after that means
//     its oldest event is at least that old for want of a reader. Events
//     the server has not yet tried to write do not count, so a server that
//     stalls (a long pause, a CPU taken by others) drops no one for it.
//
// A client past either is closed with 4008. When its socket buffers are
// full the close frame cannot be written either: the connection is then
// dropped (TCP) 3 s after the close. A client that stopped reading also
// answers no pings, and keepalive drops it (no_pong) if events are too few
// to fill its queue first. Every drop is logged at info with the queue's
// figures, and counted (Server.SlowConsumerDrops).
//
// The node also keeps all its queues within QueueBudget (1 GiB), counting
// a frame shared by many connections (a group's event) once, plus a little
// per queued frame. Over it, the connections furthest behind are dropped
// first until the queues hold 3/4 of it: a short stall of the whole node
// costs memory, not connections, while the budget lasts.

// syncWindow bounds what a sync keeps queued (see sendSync).
const syncWindow = 256 << 10

// entryCost is what a queued frame costs besides its bytes.
const entryCost = 24

type dropReason int

const (
	dropNone dropReason = iota
	dropQueueBytes
	dropQueueAge
	dropBudget
	dropNoPong
	nDropReasons
)

var dropNames = [nDropReasons]string{"", "queue_bytes", "queue_age", "budget", "no_pong"}

var dropMessages = [nDropReasons]string{"",
	"too slow: outbound queue over its size",
	"too slow: the socket took no data in time",
	"too slow: the server's queues are full",
	"no pong"}

// dropCodes are the close codes of the drops: 4008 for a client too far
// behind; a client that answers no ping gets 1001 (it cannot read it
// anyway).
var dropCodes = [nDropReasons]int{0, CloseSlowConsumer, CloseSlowConsumer, CloseSlowConsumer, CloseGoingAway}

// cost is what a frame counts against the node's budget: its bytes shared
// among the connections handed it (shared), plus entryCost.
func (c *Conn) cost(frame []byte, shared int) int64 {
	return int64(len(frame)/max(shared, 1) + entryCost)
}

// overLocked says whether queueing n more bytes at time at (hub.Mono)
// puts the connection past its limits.
func (c *Conn) overLocked(n int, at int64) dropReason {
	if c.queueBytes+c.flightBytes+c.heldBytes+n > c.srv.cfg.QueueBytes {
		return dropQueueBytes
	}
	if c.writeStart != 0 && at-c.writeStart > int64(c.srv.cfg.QueueAge) {
		return dropQueueAge // the watchdog's verdict, seen first
	}
	return dropNone
}

// oldestLocked is when (hub.Mono) the oldest frame not yet written was
// queued (0: none).
func (c *Conn) oldestLocked() int64 {
	if c.flightSince != 0 {
		return c.flightSince
	}
	return c.queueSince
}

// dropLocked closes the connection as a slow consumer, logging the queue's
// figures (n bytes were being queued at time at, hub.Mono) and counting
// the drop.
func (c *Conn) dropLocked(reason dropReason, n int, at int64) {
	if c.closed {
		return
	}
	s := c.srv
	s.drops[reason].Add(1)
	var behind time.Duration
	if oldest := c.oldestLocked(); oldest != 0 {
		behind = time.Duration(at - oldest)
	}
	s.log.Info("slow consumer dropped", "conn", c.id, "user", c.user.ID, "reason", dropNames[reason],
		"queued_frames", len(c.queue)+len(c.held), "queued_bytes", c.queueBytes+c.heldBytes,
		"writing_bytes", c.flightBytes, "incoming_bytes", n, "oldest_ms", behind.Milliseconds(),
		"node_queued_bytes", s.queued.Load(), "close_code", dropCodes[reason])
	c.closeLocked(dropCodes[reason], dropMessages[reason])
}

// writeStalled runs when a write has not finished within QueueAge.
func (c *Conn) writeStalled() {
	c.mu.Lock()
	c.dropLocked(dropQueueAge, 0, hub.Mono())
	c.mu.Unlock()
	// The writer is stuck in the write that holds the socket: no close
	// frame can follow it.
	c.ws.CloseNow()
}

// charge adds delta to the node's queued total and starts shedding when it
// passes the budget.
func (s *Server) charge(delta int64) {
	total := s.queued.Add(delta)
	if delta <= 0 || total <= s.cfg.QueueBudget || !s.shedding.CompareAndSwap(false, true) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		s.shedding.Store(false)
		return
	}
	s.wg.Add(1)
	go s.shed()
}

// shed drops the connections furthest behind until the node's queues hold
// at most 3/4 of the budget.
func (s *Server) shed() {
	defer s.wg.Done()
	defer s.shedding.Store(false)
	type behind struct {
		c      *Conn
		oldest int64
	}
	var list []behind
	for _, hc := range s.reg.All() {
		c, ok := hc.(*Conn)
		if !ok {
			continue
		}
		c.mu.Lock()
		if oldest := c.oldestLocked(); oldest != 0 && !c.closed {
			list = append(list, behind{c, oldest})
		}
		c.mu.Unlock()
	}
	slices.SortFunc(list, func(a, b behind) int { return cmp.Compare(a.oldest, b.oldest) })
	target := s.cfg.QueueBudget / 4 * 3
	now := hub.Mono()
	for _, b := range list {
		if s.queued.Load() <= target {
			return
		}
		b.c.mu.Lock()
		b.c.dropLocked(dropBudget, 0, now)
		b.c.mu.Unlock()
	}
}

// SlowConsumerDrops returns how many connections this node has dropped as
// slow consumers (or, no_pong, unresponsive) for reason, one of
// DropReasons.
func (s *Server) SlowConsumerDrops(reason string) int64 {
	if i := slices.Index(dropNames[:], reason); i > 0 {
		return s.drops[i].Load()
	}
	return 0
}

// QueuedBytes is what the node's outbound queues hold, as the budget counts
// it.
func (s *Server) QueuedBytes() int64 { return s.queued.Load() }

// DropReasons lists why a client may be dropped: queue_bytes, queue_age,
// budget (too far behind), no_pong (it answered no ping).
func DropReasons() []string { return slices.Clone(dropNames[1:]) }
