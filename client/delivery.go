package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"parley"
)

// conv returns the state of a conversation, creating it. r.mu must be
// held.
func (r *Realtime) conv(id int64) *convState {
	cs := r.convs[id]
	if cs == nil {
		cs = &convState{round: r.round}
		r.convs[id] = cs
	}
	return cs
}

// forget drops a conversation the user is no longer a member of.
func (r *Realtime) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cs := r.convs[id]; cs != nil {
		if cs.gapTimer != nil {
			cs.gapTimer.Stop()
		}
		delete(r.convs, id)
	}
}

// prune forgets the conversations the last sync did not mention: the user
// left them while away.
func (r *Realtime) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, cs := range r.convs {
		if cs.round != r.round {
			if cs.gapTimer != nil {
				cs.gapTimer.Stop()
			}
			delete(r.convs, id)
		}
	}
}

// onMessage orders a message event.
func (r *Realtime) onMessage(in *inbound) {
	m := in.Message
	if m == nil {
		return
	}
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	cs := r.conv(m.ConversationID)
	out := r.scratch[:0]
	if in.Change == ChangeNew || in.Change == "" {
		out = cs.add(*m, true, out)
	} else {
		out = cs.change(*m, in.Change, out)
	}
	r.settle(m.ConversationID, cs, out)
	r.mu.Unlock()
	r.deliver(out)
}

// onSync applies a sync event: changes to messages the device holds, new
// messages, the mod cursor and the member's own delivered mark.
func (r *Realtime) onSync(in *inbound) {
	conv := in.Conversation
	if conv == nil {
		return
	}
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	cs := r.conv(conv.ID)
	cs.round = r.round
	known := cs.based
	if !known {
		if len(in.Messages) > 0 {
			cs.base(in.Messages[0].Seq-1, 0)
		} else {
			cs.base(conv.LastSeq, conv.LastMod)
		}
	}
	out := r.scratch[:0]
	for _, m := range in.Changes {
		out = cs.change(m, changeKind(m), out)
	}
	for _, m := range in.Messages {
		out = cs.add(m, false, out)
	}
	if n := len(in.Changes); n >= parley.SyncPageSize {
		// Changes are in mod order and may have been cut short: hold the
		// last one's mod and sync again for the rest.
		cs.raiseMod(in.Changes[n-1].Mod)
		cs.resync = true
	} else {
		cs.raiseMod(conv.LastMod)
	}
	cs.page = known && in.HasMore
	for _, mem := range in.Members {
		if mem.UserID == r.user.ID {
			cs.reported = mem.DeliveredSeq
			cs.receiptDue = cs.seq > cs.reported
		}
	}
	r.settle(conv.ID, cs, out)
	r.mu.Unlock()
	r.deliver(out)
	if f := r.h.OnConversation; f != nil {
		f(ConversationEvent{Change: ChangeSync, Conversation: *conv, Members: in.Members})
	}
}

// synced finishes a sync when its reply comes: it pages what the sync
// left for history, syncs again if changes were cut short, and then lets
// operations flow.
func (r *Realtime) synced(cn *wsConn, in *inbound) error {
	cn.syncID = ""
	if !in.OK {
		if in.Error == nil {
			return errors.New("client: sync failed")
		}
		return toError(in.Error, 0)
	}
	again := false
	for {
		r.mu.Lock()
		var id int64
		for cid, cs := range r.convs {
			if cs.resync {
				cs.resync, again = false, true
			}
			if cs.page && id == 0 {
				id = cid
			}
		}
		r.mu.Unlock()
		if id == 0 {
			break
		}
		if err := r.page(cn.ctx, id); err != nil {
			return err
		}
	}
	if again {
		return r.startSync(cn)
	}

	r.mu.Lock()
	if r.cn != cn || r.closing {
		r.mu.Unlock()
		return nil
	}
	cn.syncTimer.Stop()
	r.live = true
	close(r.liveCh)
	r.scheduleReceipts()
	r.mu.Unlock()
	r.setState(StateConnected, nil)
	return nil
}

// page fetches the messages a sync left out (has_more) from history.
func (r *Realtime) page(ctx context.Context, id int64) error {
	for {
		r.mu.Lock()
		cs := r.convs[id]
		if cs == nil || !cs.page {
			r.mu.Unlock()
			return nil
		}
		after := cs.seq
		r.mu.Unlock()
		msgs, more, err := r.c.History(ctx, id, parley.MessageQuery{AfterSeq: after, Limit: parley.PageSizeMax})
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			r.forget(id) // no longer a member
			return nil
		} else if err != nil {
			return err
		}
		done := !more || len(msgs) == 0
		r.merge(id, cs, msgs, func(cs *convState) {
			if done {
				cs.page = false
			}
		})
	}
}

// fillGap fetches from history the messages missing before held ones.
func (r *Realtime) fillGap(id int64) {
	for {
		r.mu.Lock()
		cs := r.convs[id]
		if cs == nil || len(cs.pending) == 0 {
			if cs != nil {
				cs.gapTimer = nil
			}
			r.mu.Unlock()
			return
		}
		after, upto := cs.seq, cs.minPending()
		r.mu.Unlock()
		limit := int(min(upto-after-1, parley.PageSizeMax))
		msgs, _, err := r.c.History(r.ctx, id, parley.MessageQuery{AfterSeq: after, Limit: max(limit, 1)})
		if err != nil {
			r.log.Debug("realtime: filling a gap failed", "conversation", id, "err", err)
			r.mu.Lock()
			if r.convs[id] == cs && !r.closing {
				cs.gapTimer = r.afterFunc(r.cfg.gapTimeout, func() { r.fillGap(id) })
			}
			r.mu.Unlock()
			return
		}
		progress := false
		r.merge(id, cs, msgs, func(cs *convState) { progress = cs.seq > after })
		if !progress {
			// History does not have the gap (it should): try later rather
			// than spin.
			r.mu.Lock()
			if r.convs[id] == cs && !r.closing && len(cs.pending) > 0 {
				cs.gapTimer = r.afterFunc(r.cfg.gapTimeout, func() { r.fillGap(id) })
			}
			r.mu.Unlock()
			return
		}
	}
}

// merge adds messages from history to a conversation's state, if it is
// still the same state, and delivers what follows. then runs under r.mu
// after the merge.
func (r *Realtime) merge(id int64, cs *convState, msgs []parley.Message, then func(*convState)) {
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.mu.Lock()
	if r.convs[id] != cs {
		r.mu.Unlock()
		return
	}
	out := r.scratch[:0]
	for _, m := range msgs {
		out = cs.add(m, false, out)
	}
	then(cs)
	r.settle(id, cs, out)
	r.mu.Unlock()
	r.deliver(out)
}

// settle arms or stops a conversation's gap timer and notes receipts due
// after a change of its state. r.mu must be held.
func (r *Realtime) settle(id int64, cs *convState, out []delivery) {
	switch {
	case len(cs.pending) > 0 && cs.gapTimer == nil && !r.closing:
		cs.gapTimer = r.afterFunc(r.cfg.gapTimeout, func() { r.fillGap(id) })
	case len(cs.pending) == 0 && cs.gapTimer != nil:
		cs.gapTimer.Stop()
		cs.gapTimer = nil
	}
	if r.cfg.autoReceipts > 0 {
		for _, d := range out {
			if d.change == ChangeNew && d.msg.SenderID != r.user.ID {
				cs.receiptDue = true
				break
			}
		}
		if cs.receiptDue && r.live {
			r.scheduleReceipts()
		}
	}
}

// deliver hands messages to the Handler. r.dmu must be held.
func (r *Realtime) deliver(out []delivery) {
	if f := r.h.OnMessage; f != nil {
		for _, d := range out {
			f(d.msg, d.change)
		}
	}
	clear(out)
	r.scratch = out[:0]
}

// scheduleReceipts arms the receipt timer. r.mu must be held.
func (r *Realtime) scheduleReceipts() {
	if r.cfg.autoReceipts > 0 && r.receiptTimer == nil && !r.closing {
		r.receiptTimer = r.afterFunc(r.cfg.autoReceipts, r.flushReceipts)
	}
}

// flushReceipts reports "delivered" for the conversations with messages
// from others delivered since the last report. It does not wait for the
// replies; a report lost with a connection is made again after the next
// sync, which tells the device its marks.
func (r *Realtime) flushReceipts() {
	r.mu.Lock()
	r.receiptTimer = nil
	if !r.live {
		r.mu.Unlock()
		return // the next sync schedules them again
	}
	cn := r.cn
	var todo []receiptFields
	for id, cs := range r.convs {
		if !cs.receiptDue {
			continue
		}
		cs.receiptDue = false
		if cs.seq > cs.reported {
			cs.reported = cs.seq
			todo = append(todo, receiptFields{ConversationID: id, DeliveredSeq: cs.seq})
		}
	}
	r.mu.Unlock()
	for _, f := range todo {
		if r.lim != nil && r.lim.Wait(cn.ctx) != nil {
			return
		}
		b, _ := json.Marshal(f)
		r.mu.Lock()
		id := r.newID()
		r.mu.Unlock()
		if cn.write(encodeRequest(opReceipt, id, b), r.cfg.writeTimeout) != nil {
			return
		}
	}
}
