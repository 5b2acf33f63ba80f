package client

import (
	"slices"
	"time"

	"parley"
)

// Message changes as passed to Handler.OnMessage.
const (
	ChangeNew     = "new"
	ChangeEdited  = "edited"
	ChangeDeleted = "deleted"
)

// Cursor is how far a device holds a conversation: every message up to
// Seq, and every change (edit or deletion) up to Mod. It is what the sync
// operation takes.
type Cursor struct {
	Seq int64 `json:"seq"`
	Mod int64 `json:"mod"`
}

// delivery is one call of Handler.OnMessage.
type delivery struct {
	msg    parley.Message
	change string
}

// maxAhead bounds convState.ahead. Past it the highest entries are dropped:
// the mod cursor then stays behind (never ahead of what the device holds),
// which costs at most a few changes sent again by the next sync.
const maxAhead = 256

// convState is the client's view of one conversation. Its methods are pure
// bookkeeping; Realtime guards it with its mutex and owns the timers.
//
// Invariants: every message with seq <= seq has been delivered, in order,
// exactly once as new; pending holds messages with seq > seq+1, waiting for
// the gap before them to close. Every change with mod <= mod has been
// applied; ahead lists (ascending) applied mods above mod+1.
type convState struct {
	seq     int64
	mod     int64
	ahead   []int64
	pending map[int64]parley.Message

	// based is false until the state has a starting point: a conversation
	// first seen through a live event starts just before that event's
	// message, one first seen through sync at the page it carries.
	based bool

	round      uint64      // last sync round that saw the conversation
	gapTimer   *time.Timer // armed while pending is not empty
	page       bool        // sync said has_more: page the rest through history
	resync     bool        // sync truncated the changes: sync again
	reported   int64       // delivered_seq the server has (or was sent)
	receiptDue bool        // messages from others delivered since reported
}

// base starts an unbased state just before seq, with the changes up to mod
// taken as held.
func (cs *convState) base(seq, mod int64) {
	if !cs.based {
		cs.based = true
		cs.seq = max(seq, 0)
		cs.mod = max(mod, 0)
	}
}

// cursor returns the sync cursor.
func (cs *convState) cursor() Cursor { return Cursor{Seq: cs.seq, Mod: cs.mod} }

// applied reports whether the change with this mod has been applied.
func (cs *convState) applied(mod int64) bool {
	if mod <= cs.mod {
		return true
	}
	_, ok := slices.BinarySearch(cs.ahead, mod)
	return ok
}

// noteMod records that the change with this mod has been applied.
func (cs *convState) noteMod(mod int64) {
	if mod <= cs.mod {
		return
	}
	if mod == cs.mod+1 {
		cs.mod = mod
		cs.absorb()
		return
	}
	i, ok := slices.BinarySearch(cs.ahead, mod)
	if !ok && i < maxAhead {
		cs.ahead = slices.Insert(cs.ahead, i, mod)
		if len(cs.ahead) > maxAhead {
			cs.ahead = cs.ahead[:maxAhead]
		}
	}
}

// raiseMod moves the mod cursor up to mod, after a sync reported that the
// device now holds every change up to it.
func (cs *convState) raiseMod(mod int64) {
	cs.mod = max(cs.mod, mod)
	cs.absorb()
}

// absorb moves the entries of ahead that mod has reached, or that continue
// it, into mod.
func (cs *convState) absorb() {
	i := 0
	for ; i < len(cs.ahead) && cs.ahead[i] <= cs.mod+1; i++ {
		cs.mod = max(cs.mod, cs.ahead[i])
	}
	if i == len(cs.ahead) {
		cs.ahead = nil
	} else {
		cs.ahead = cs.ahead[i:]
	}
}

// add takes a message in its newest known version and appends to out what
// is to be delivered: it, if it is the next seq, and whatever pending
// messages follow it. A message already delivered is dropped; live says
// whether m came from a "new" event (its mod is then the message's
// creation, which any version the device holds includes).
func (cs *convState) add(m parley.Message, live bool, out []delivery) []delivery {
	cs.base(m.Seq-1, m.Mod-1)
	if m.Seq <= cs.seq {
		if live {
			cs.noteMod(m.Mod)
		}
		return out
	}
	cs.noteMod(m.Mod)
	if m.Seq > cs.seq+1 {
		cs.hold(m)
		return out
	}
	if p, ok := cs.pending[m.Seq]; ok { // a newer version was held
		if p.Mod > m.Mod {
			m = p
		}
		delete(cs.pending, m.Seq)
	}
	out = append(out, delivery{m, ChangeNew})
	cs.seq = m.Seq
	return cs.drain(out)
}

// hold keeps m until the messages before it have been delivered, keeping
// the newer version if one is already held.
func (cs *convState) hold(m parley.Message) {
	if p, ok := cs.pending[m.Seq]; ok && p.Mod >= m.Mod {
		return
	}
	if cs.pending == nil {
		cs.pending = make(map[int64]parley.Message)
	}
	cs.pending[m.Seq] = m
}

// drain delivers the pending messages that follow seq.
func (cs *convState) drain(out []delivery) []delivery {
	for len(cs.pending) > 0 {
		p, ok := cs.pending[cs.seq+1]
		if !ok {
			break
		}
		delete(cs.pending, p.Seq)
		out = append(out, delivery{p, ChangeNew})
		cs.seq = p.Seq
	}
	if len(cs.pending) == 0 {
		cs.pending = nil
	}
	return out
}

// change takes an edited or deleted message. One the device holds is
// delivered as a change unless this change was applied already; one it
// does not hold yet is kept as the newest version of that message, to be
// delivered as new in its turn.
func (cs *convState) change(m parley.Message, change string, out []delivery) []delivery {
	if !cs.based {
		// Nothing of this conversation was delivered; the message will
		// come with history when it matters.
		return out
	}
	if m.Seq > cs.seq {
		return cs.add(m, false, out)
	}
	if cs.applied(m.Mod) {
		return out
	}
	cs.noteMod(m.Mod)
	return append(out, delivery{m, change})
}

// changeKind names the change a message in its current version shows.
func changeKind(m parley.Message) string {
	if m.DeletedAt != nil {
		return ChangeDeleted
	}
	return ChangeEdited
}

// minPending returns the lowest held seq, 0 if none.
func (cs *convState) minPending() int64 {
	var lo int64
	for s := range cs.pending {
		if lo == 0 || s < lo {
			lo = s
		}
	}
	return lo
}
