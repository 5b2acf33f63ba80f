package hub

import (
	"slices"

	"parley"
)

// Delivery tracking: every message event (new, edited, deleted) carries the
// message's mod, which grows by one with each change of the conversation,
// so a node that delivers a conversation's events can tell which it has
// delivered and which the bus lost. Per conversation with members here it
// keeps a watermark (every event up to mod has been delivered here, or
// predates the connections) and the events delivered above it. The repair
// loop (package repair) compares the watermark with the store and delivers
// what is missing; the bus path skips what repair has delivered.
//
// Lock order: Registry.mu (read), then convEntry.mu, then what Conn.Deliver
// takes. Deliveries of tracked events happen under convEntry.mu, so that
// the bus and the repair loop never both deliver one event.

// maxAhead bounds a conversation's list of events delivered above its
// watermark. Past it the highest are forgotten: repair may then deliver
// them again, which clients drop by seq and mod.
const maxAhead = 1024

// tracked is one event delivered above the watermark.
type tracked struct{ mod, seq int64 }

// tracking is a conversation's delivery state, guarded by its convEntry.mu.
type tracking struct {
	based bool  // mod and seq are known
	mod   int64 // every message event up to this mod was delivered here
	seq   int64 // a seq no message created above mod has (lower bound of the newest seq at or below mod)
	ahead []tracked
	seen  int64 // the store's last mod at the previous check
}

// delivered reports whether the event with this mod was delivered here.
func (tr *tracking) delivered(mod int64) bool {
	if tr.based && mod <= tr.mod {
		return true
	}
	_, ok := slices.BinarySearchFunc(tr.ahead, mod, func(a tracked, m int64) int { return cmp64(a.mod, m) })
	return ok
}

// note records the delivery of the event with this mod (and seq, for a new
// message).
func (tr *tracking) note(mod, seq int64) {
	if tr.based && mod <= tr.mod {
		return
	}
	i, ok := slices.BinarySearchFunc(tr.ahead, mod, func(a tracked, m int64) int { return cmp64(a.mod, m) })
	if ok {
		return
	}
	if i < maxAhead {
		tr.ahead = slices.Insert(tr.ahead, i, tracked{mod, seq})
		if len(tr.ahead) > maxAhead {
			tr.ahead = tr.ahead[:maxAhead]
		}
	}
	tr.absorb()
}

// raise moves the watermark up to mod (with seq a lower bound of the
// newest seq at or below it) and takes in the events that continue it.
func (tr *tracking) raise(mod, seq int64) {
	if !tr.based || mod > tr.mod {
		tr.mod = mod
	}
	tr.seq = max(tr.seq, seq)
	tr.based = true
	tr.absorb()
}

func (tr *tracking) absorb() {
	if !tr.based {
		return
	}
	i := 0
	for ; i < len(tr.ahead) && tr.ahead[i].mod <= tr.mod+1; i++ {
		tr.mod = max(tr.mod, tr.ahead[i].mod)
		tr.seq = max(tr.seq, tr.ahead[i].seq)
	}
	tr.ahead = tr.ahead[:copy(tr.ahead, tr.ahead[i:])]
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Mark is how far this node has delivered a conversation's message events:
// every event up to Mod, and every message up to Seq. Check returns it;
// Repair takes it back.
type Mark struct {
	ID, Seq, Mod int64
	// Moved says the store's head moved since the previous check.
	Moved bool
	entry *convEntry
}

// Missed is a message event the bus lost, to be delivered by Repair.
type Missed struct {
	Mod   int64
	Seq   int64 // set for a new message
	Frame []byte
}

// TrackedIDs appends to ids the conversations with members connected here.
func (r *Registry) TrackedIDs(ids []int64) []int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for id := range r.convs {
		ids = append(ids, id)
	}
	return ids
}

// Baseline gives the conversations among heads that have no watermark yet
// one: their events up to the head count as delivered. Call it with heads
// read before the connections that made them were registered (so that
// nothing stored afterwards counts as delivered) and before those
// connections sync (so that the sync carries everything up to the head).
func (r *Registry) Baseline(heads []parley.ConvHead) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, h := range heads {
		if ce := r.convs[h.ID]; ce != nil {
			ce.mu.Lock()
			if !ce.tr.based {
				ce.tr.raise(h.LastMod, h.LastSeq)
			}
			ce.mu.Unlock()
		}
	}
}

// Check compares a conversation's head in the store with what this node
// delivered. It reports repair when events that the store held at the
// previous check are still missing here, with the mark to repair from. A
// conversation without a watermark takes the head as its watermark.
// from.ID is 0 if the conversation has no members here any more.
func (r *Registry) Check(h parley.ConvHead) (from Mark, repair bool) {
	r.mu.RLock()
	ce := r.convs[h.ID]
	r.mu.RUnlock()
	if ce == nil {
		return Mark{}, false
	}
	ce.mu.Lock()
	defer ce.mu.Unlock()
	tr := &ce.tr
	prev := tr.seen
	tr.seen = h.LastMod
	if !tr.based {
		tr.raise(h.LastMod, h.LastSeq)
	}
	from = Mark{ID: h.ID, Seq: tr.seq, Mod: tr.mod, Moved: prev != h.LastMod, entry: ce}
	if tr.mod >= h.LastMod {
		if tr.mod == h.LastMod {
			tr.seq = max(tr.seq, h.LastSeq)
		}
		return from, false
	}
	return from, prev > tr.mod
}

// Repair delivers, to the connections of the conversation of from, the
// events in missed that were not delivered yet (in the order given), and
// then takes every event up to head as delivered. missed must hold every
// message that changed after from.Mod, as the store held it after head was
// read. It returns how many events it delivered; none if the conversation
// has left this node since Check.
func (r *Registry) Repair(from Mark, head parley.ConvHead, missed []Missed) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ce := r.convs[from.ID]
	if ce == nil || ce != from.entry {
		return 0
	}
	ce.mu.Lock()
	defer ce.mu.Unlock()
	n := 0
	for _, m := range missed {
		if ce.tr.delivered(m.Mod) {
			continue
		}
		d := &Delivery{ConversationID: from.ID, Seq: m.Seq, Frame: m.Frame}
		for _, c := range ce.conns {
			c.Deliver(d)
		}
		ce.tr.note(m.Mod, m.Seq)
		n++
	}
	ce.tr.raise(head.LastMod, head.LastSeq)
	return n
}

// KeepMembers stops delivering conversation id's events to the local users
// who are not among members (the store's list): those whose leave event
// the bus lost. It returns how many it dropped.
func (r *Registry) KeepMembers(id int64, members []int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	ce := r.convs[id]
	if ce == nil {
		return 0
	}
	var gone []int64
	for uid := range ce.users {
		if !slices.Contains(members, uid) {
			gone = append(gone, uid)
		}
	}
	for _, uid := range gone {
		if u := r.users[uid]; u != nil {
			r.leaveLocked(u, uid, id)
		}
	}
	return len(gone)
}

// DeliverToConversation hands d to every local connection of a member of
// conversation id.
func (r *Registry) DeliverToConversation(id int64, d *Delivery) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ce := r.convs[id]; ce != nil {
		for _, c := range ce.conns {
			c.Deliver(d)
		}
	}
}

// CloseConversation closes, with code and reason, every local connection
// of a member of conversation id.
func (r *Registry) CloseConversation(id int64, code int, reason string) int {
	r.mu.RLock()
	var victims []Conn
	if ce := r.convs[id]; ce != nil {
		victims = slices.Clone(ce.conns)
	}
	r.mu.RUnlock()
	for _, c := range victims {
		c.CloseWith(code, reason)
	}
	return len(victims)
}
