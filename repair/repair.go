// Package repair delivers what the bus lost: every message stored on any
// node reaches every member connected to this node within a bounded time,
// even when the bus silently drops publications (a frozen NATS server, a
// cut link) and never reports a failure, with nothing more asked of
// clients.
//
// It is anti-entropy on numbered publications. Every message event (new,
// edited, deleted) carries the message's mod, the conversation's change
// counter, which grows by one with each change; the node's registry
// (hub/track.go) keeps, per conversation with members connected here, the
// mod up to which it has delivered every event. Every Interval the
// Repairer reads the heads (last seq and last mod) of those conversations
// from the store, one query per 5,000 conversations. For each conversation
// whose events stored at the previous check are still missing here, it
// reads what was lost (messages after the delivered seq, changes after the
// delivered mod) and the members, drops the local users who are no longer
// members (their leave event may have been lost too), delivers what was
// lost to the local connections, and then the members' current receipt
// marks: receipts carry no counter, and events lost in a conversation are
// a sign that its receipts were lost too. For LossyChecks checks after a
// repair it also sends the current marks of every conversation whose head
// moved since the previous check, so that the receipts of members on a
// node whose publications are lost arrive even in conversations where
// nothing else is lost.
//
// An event stored at time t is thus delivered here by t + 2 × Interval
// plus the time of the reads. A conversation that lost more than Limit
// events of either kind is not repaired event by event: its local members'
// connections are closed with 1001 ("events were interrupted: reconnect
// and sync"), and their clients sync.
package repair

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"parley"
	"parley/hub"
	"parley/service"
)

// Defaults.
const (
	// DefaultInterval is how often a node compares what it delivered with
	// the store (--repair-interval).
	DefaultInterval = time.Second
	// Limit bounds the events repaired per conversation and check: new
	// messages, and changes, each.
	Limit = 1000
	// chunk bounds the conversations of one heads query.
	chunk = 5000
	// LossyChecks is how many checks after a repair the marks of active
	// conversations are refreshed.
	LossyChecks = 10
)

// CloseResync is the close code and reason for connections whose
// conversation lost more than Limit events (docs/protocol.md).
const (
	CloseResync  = 1001
	ReasonResync = "events were interrupted: reconnect and sync"
)

// Source is what the Repairer reads (service.Service).
type Source interface {
	Heads(ctx context.Context, ids []int64) ([]parley.ConvHead, error)
	Missed(ctx context.Context, id, seq, mod int64, limit int) (news, changes []parley.Message, more bool, err error)
	Marks(ctx context.Context, id int64) (members []parley.Member, ownOnly bool, err error)
}

// Registry is what the Repairer needs of the node's registry (hub.Registry).
type Registry interface {
	TrackedIDs(ids []int64) []int64
	Check(h parley.ConvHead) (from hub.Mark, repair bool)
	Repair(from hub.Mark, head parley.ConvHead, missed []hub.Missed) int
	DeliverToConversation(id int64, d *hub.Delivery)
	DeliverToUser(userID int64, d *hub.Delivery)
	Local(ids []int64) []int64
	KeepMembers(id int64, members []int64) int
	CloseConversation(id int64, code int, reason string) int
}

// Stats count what the Repairer did since it started.
type Stats struct {
	Checks        int64 // passes over the node's conversations
	Conversations int64 // conversation checks (one per conversation per pass)
	Repaired      int64 // conversations repaired
	Events        int64 // message events delivered that the bus had lost
	Resyncs       int64 // conversations whose connections were asked to resync
	Marks         int64 // conversations whose receipt marks were sent again
	Errors        int64 // passes cut short by a store error
}

// Repairer runs the checks on its own goroutine.
type Repairer struct {
	reg      Registry
	src      Source
	interval time.Duration
	log      *slog.Logger

	checks, convs, repaired, events, resyncs, errs, refreshed atomic.Int64
	lossyUntil                                                int64 // Pass's: the check up to which marks are refreshed

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// New returns a Repairer; Start runs it.
func New(reg Registry, src Source, interval time.Duration, log *slog.Logger) *Repairer {
	if log == nil {
		log = slog.Default()
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Repairer{reg: reg, src: src, interval: interval, log: log, stop: make(chan struct{})}
}

// Start checks every interval until Close.
func (r *Repairer) Start() {
	r.wg.Go(func() {
		t := time.NewTicker(r.interval)
		defer t.Stop()
		var ids []int64
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
			ids = r.Pass(context.Background(), ids[:0])
		}
	})
}

// Close stops the checks and waits for the one running.
func (r *Repairer) Close() {
	r.once.Do(func() { close(r.stop) })
	r.wg.Wait()
}

// Stats returns the counts so far.
func (r *Repairer) Stats() Stats {
	return Stats{Checks: r.checks.Load(), Conversations: r.convs.Load(), Repaired: r.repaired.Load(),
		Events: r.events.Load(), Resyncs: r.resyncs.Load(), Marks: r.refreshed.Load(), Errors: r.errs.Load()}
}

// Pass checks every conversation with members here once and repairs what
// is missing. ids is a buffer for the conversation ids; Pass returns it.
func (r *Repairer) Pass(ctx context.Context, ids []int64) []int64 {
	check := r.checks.Add(1)
	ids = r.reg.TrackedIDs(ids)
	var (
		repaired, events int
		moved            []int64 // conversations active since the previous check, not repaired
	)
	for start := 0; start < len(ids); start += chunk {
		heads, err := r.src.Heads(ctx, ids[start:min(start+chunk, len(ids))])
		if err != nil {
			r.errs.Add(1)
			r.log.Debug("repair: read heads", "err", err)
			return ids
		}
		r.convs.Add(int64(len(heads)))
		for _, h := range heads {
			from, ok := r.reg.Check(h)
			if !ok {
				if from.Moved {
					moved = append(moved, h.ID)
				}
				continue
			}
			n, err := r.repair(ctx, from, h)
			if err != nil {
				r.errs.Add(1)
				r.log.Debug("repair: read what was lost", "conversation", h.ID, "err", err)
				return ids
			}
			repaired++
			events += n
		}
	}
	if repaired > 0 {
		r.lossyUntil = check + LossyChecks
		r.log.Info("repaired message events the bus lost", "conversations", repaired, "events", events)
	}
	if check <= r.lossyUntil {
		for _, id := range moved {
			r.marks(ctx, id)
		}
	}
	return ids
}

// repair delivers what conversation from.ID lacks up to head h.
func (r *Repairer) repair(ctx context.Context, from hub.Mark, h parley.ConvHead) (int, error) {
	news, changes, more, err := r.src.Missed(ctx, from.ID, from.Seq, from.Mod, Limit)
	if err != nil {
		return 0, err
	}
	r.repaired.Add(1)
	if more {
		n := r.reg.CloseConversation(from.ID, CloseResync, ReasonResync)
		r.resyncs.Add(1)
		r.log.Warn("repair: too many events lost in a conversation: its connections resync", "conversation", from.ID, "conns", n)
		return 0, nil
	}
	missed := make([]hub.Missed, 0, len(news)+len(changes))
	for _, m := range changes {
		change := changeOf(m)
		if change == "new" { // changed otherwise: its reactions
			change = "reacted"
		}
		missed = append(missed, hub.Missed{Mod: m.Mod, Frame: service.MessageJSON(&m, change)})
	}
	for _, m := range news {
		// A message edited or deleted since goes as that change, which a
		// client that does not hold the message yet takes as new.
		if change := changeOf(m); change != "new" {
			missed = append(missed, hub.Missed{Mod: m.Mod, Frame: service.MessageJSON(&m, change)})
			continue
		}
		missed = append(missed, hub.Missed{Mod: m.Mod, Seq: m.Seq, Frame: service.MessageJSON(&m, "new")})
	}
	// The members first: a member whose leave event was lost gets nothing
	// more of the conversation.
	members, ownOnly, err := r.src.Marks(ctx, from.ID)
	if err != nil {
		return 0, err
	}
	r.keep(from.ID, members)
	n := r.reg.Repair(from, h, missed)
	r.events.Add(int64(n))
	r.sendMarks(from.ID, members, ownOnly)
	return n, nil
}

// keep drops the local users of conversation id who are not among members.
func (r *Repairer) keep(id int64, members []parley.Member) {
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	if n := r.reg.KeepMembers(id, ids); n > 0 {
		r.log.Info("repair: members whose leave was lost stop receiving the conversation", "conversation", id, "users", n)
	}
}

// marks reads the members of conversation id and sends their receipt
// marks, as sendMarks does.
func (r *Repairer) marks(ctx context.Context, id int64) {
	members, ownOnly, err := r.src.Marks(ctx, id)
	if err != nil {
		r.log.Debug("repair: read marks", "conversation", id, "err", err)
		return
	}
	r.keep(id, members)
	r.sendMarks(id, members, ownOnly)
}

// sendMarks sends the members' receipt marks of conversation id to its
// local members, as receipt events do.
func (r *Repairer) sendMarks(id int64, members []parley.Member, ownOnly bool) {
	r.refreshed.Add(1)
	if !ownOnly {
		for _, m := range members {
			r.reg.DeliverToConversation(id, &hub.Delivery{ConversationID: id, Frame: service.ReceiptJSON(m)})
		}
		return
	}
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	local := make(map[int64]bool)
	for _, uid := range r.reg.Local(ids) {
		local[uid] = true
	}
	for _, m := range members {
		if local[m.UserID] {
			r.reg.DeliverToUser(m.UserID, &hub.Delivery{ConversationID: id, Frame: service.ReceiptJSON(m)})
		}
	}
}

func changeOf(m parley.Message) string {
	switch {
	case m.DeletedAt != nil:
		return "deleted"
	case m.EditedAt != nil:
		return "edited"
	}
	return "new"
}
