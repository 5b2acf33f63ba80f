package calls

import (
	"context"
	"encoding/json"
	"time"

	"parley"
)

// Bus topics. Every node subscribes to announceTopic and to its own
// nodeTopic.
const announceTopic = "calls"

func nodeTopic(inst string) string { return "calls.node." + inst }

// message is what nodes say to each other about calls (JSON on the bus).
type message struct {
	// T is the kind: "state" (an announcement, on announceTopic), "req" (an
	// operation for the coordinator), "resp" (its answer) or "gone" (a
	// device in the call disconnected).
	T    string `json:"t"`
	Call *info  `json:"call,omitempty"` // state; resp to accept and finishing ops

	RID    string `json:"rid,omitempty"`     // req, resp: request id
	From   string `json:"from,omitempty"`    // req: the asking node's instance
	Op     string `json:"op,omitempty"`      // req: call_accept, call_decline, ...
	CallID string `json:"call_id,omitempty"` // req, gone
	User   int64  `json:"user,omitempty"`    // req, gone: who asks
	Conn   string `json:"conn,omitempty"`    // req, gone: from which connection
	SDP    string `json:"sdp,omitempty"`     // req call_accept: the answer

	Code    string `json:"code,omitempty"` // resp: error code, "" for success
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("calls: encode: " + err.Error()) // only our own types
	}
	return b
}

// announce tells every node a call's state. The caller holds the call's
// mu, so a call's announcements leave in order.
func (s *Service) announce(i info) {
	s.publish(announceTopic, mustJSON(message{T: "state", Call: &i}))
}

// onAnnounce indexes another node's call and lets this node's calls that
// conflict with it settle.
func (s *Service) onAnnounce(data []byte) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.T != "state" || m.Call == nil {
		return
	}
	if inst, _ := coordinator(m.Call.ID); inst == s.inst {
		return // own calls are indexed as they change
	}
	s.mu.Lock()
	var rivals []string
	if s.setLocked(*m.Call) && m.Call.State != stateEnded {
		rivals = s.rivalsLocked(*m.Call)
	}
	s.mu.Unlock()
	for _, id := range rivals {
		s.spawn(func() { s.settle(id) })
	}
}

// onNodeMessage handles what other nodes (or this one) send to this node:
// requests for its calls and answers to its own requests.
func (s *Service) onNodeMessage(data []byte) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		s.log.Warn("calls: bad bus message", "err", err)
		return
	}
	switch m.T {
	case "req":
		s.spawn(func() { s.serve(m) })
	case "gone":
		s.spawn(func() { s.gone(m) })
	case "resp":
		s.mu.Lock()
		ch := s.pending[m.RID]
		s.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

// serve runs a request as the call's coordinator and answers it.
func (s *Service) serve(m message) {
	var (
		i   info
		rec outcome
		err error
	)
	switch m.Op {
	case opAccept:
		i, err = s.accept(m)
	case opDecline, opCancel, opHangup:
		i, rec, err = s.finish(m)
	default:
		err = parley.Errorf(parley.EINVALID, "Unknown call operation.")
	}
	resp := message{T: "resp", RID: m.RID}
	if err != nil {
		resp.Code, resp.Message, resp.Field = parley.ErrorCode(err), parley.ErrorMessage(err), parley.ErrorField(err)
	} else {
		resp.Call = &i
	}
	s.publish(nodeTopic(m.From), mustJSON(resp))
	s.record(rec)
}

// ask sends an operation to the node that coordinates its call and waits
// for the answer: unavailable if none comes within RequestTimeout (the
// coordinator is gone or unreachable).
func (s *Service) ask(ctx context.Context, m message) (info, error) {
	inst, ok := coordinator(m.CallID)
	if !ok {
		return info{}, parley.ErrNotFound
	}
	m.T, m.RID, m.From = "req", randomHex(8), s.inst
	ch := make(chan message, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return info{}, parley.ErrUnavailable
	}
	s.pending[m.RID] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, m.RID)
		s.mu.Unlock()
	}()
	if err := s.bus.Publish(ctx, nodeTopic(inst), mustJSON(m)); err != nil {
		s.log.Warn("calls: bus publish failed", "err", err)
		return info{}, parley.ErrUnavailable
	}
	t := time.NewTimer(s.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.Code != "" {
			return info{}, &parley.Error{Code: r.Code, Message: r.Message, Field: r.Field}
		}
		if r.Call == nil {
			return info{}, parley.Errorf(parley.EINTERNAL, "empty answer from the call's node")
		}
		s.mu.Lock()
		s.setLocked(*r.Call)
		s.mu.Unlock()
		return *r.Call, nil
	case <-t.C:
		return info{}, parley.Errorf(parley.EUNAVAILABLE, "The call's server did not answer; try again.")
	case <-ctx.Done():
		return info{}, parley.ErrUnavailable
	}
}

// connGone tells the coordinators of the calls a closed connection was in
// (as caller or answering device) that it has gone; they end those calls.
func (s *Service) connGone(userID int64, connID string) {
	s.mu.Lock()
	var ids []string
	for _, e := range s.byUser[userID] {
		if (e.Caller == userID && e.CallerConn == connID) || (e.Callee == userID && e.CalleeConn == connID) {
			ids = append(ids, e.ID)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		inst, _ := coordinator(id)
		s.publish(nodeTopic(inst), mustJSON(message{T: "gone", CallID: id, User: userID, Conn: connID}))
	}
}

// announceLoop repeats the state of this node's live calls, so that nodes
// that started since hear of them, and forgets calls of other nodes that
// stopped being announced (their coordinator died) and old tombstones.
func (s *Service) announceLoop() {
	t := time.NewTicker(s.cfg.AnnounceInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		own := make([]*call, 0, len(s.own))
		for _, c := range s.own {
			own = append(own, c)
		}
		s.mu.Unlock()
		for _, c := range own {
			c.mu.Lock()
			if c.State != stateEnded {
				s.announce(c.info)
			}
			c.mu.Unlock()
		}
		s.sweep(time.Now().Add(-3 * s.cfg.AnnounceInterval))
	}
}

// sweep drops index entries last heard of before cutoff, except this
// node's live calls.
func (s *Service) sweep(cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.index {
		if e.seen.Before(cutoff) && s.own[id] == nil {
			s.unlinkLocked(e)
			delete(s.index, id)
		}
	}
}
