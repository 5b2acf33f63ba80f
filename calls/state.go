package calls

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"parley"
)

// Call states. A call rings until it is answered (active) or ends; an
// active call ends when someone hangs up or a device in it disconnects.
const (
	stateRinging = "ringing"
	stateActive  = "active"
	stateEnded   = "ended"
)

// Reasons a call ends, as the "ended" event names them.
const (
	ReasonDeclined     = "declined"     // the callee declined
	ReasonCancelled    = "cancelled"    // the caller gave up before an answer
	ReasonMissed       = "missed"       // nobody answered within the ring timeout
	ReasonBusy         = "busy"         // someone in it is in another call (races only; see beats)
	ReasonGlare        = "glare"        // lost to the call the other person placed at the same time
	ReasonHangup       = "hangup"       // someone hung up an answered call
	ReasonDisconnected = "disconnected" // a device in the call lost its WebSocket
)

// info is what every node knows of a call: the payload of its
// announcements. Version grows with each change, so a node never goes back
// to an older state whatever order announcements arrive in.
type info struct {
	ID             string `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Media          string `json:"media"`
	Caller         int64  `json:"caller"`
	Callee         int64  `json:"callee"`
	CallerConn     string `json:"caller_conn"`
	CalleeConn     string `json:"callee_conn,omitempty"` // the device that answered
	State          string `json:"state"`
	Created        int64  `json:"created"` // coordinator's clock, Unix nanoseconds
	Version        int64  `json:"version"`
}

// involves reports whether userID is the caller or the callee.
func (i info) involves(userID int64) bool { return i.Caller == userID || i.Callee == userID }

// coordinator returns the instance id in a call id ("<instance>.<random>").
func coordinator(callID string) (string, bool) {
	inst, rest, ok := strings.Cut(callID, ".")
	return inst, ok && isHex(inst, 16) && isHex(rest, 16)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// glare reports whether x and y are the same two people calling each other
// at once: opposite directions, both ringing.
func glare(x, y info) bool {
	return x.Caller == y.Callee && x.Callee == y.Caller && x.State == stateRinging && y.State == stateRinging
}

// beats decides a conflict between two different live calls that share a
// person: true if x survives and y must end. Every node decides the same
// way from the same announcements:
//
//  1. Glare (see glare): the call placed by the person with the smaller user
//     id wins.
//  2. An answered call beats a ringing one.
//  3. Otherwise the older call wins: smaller Created, then smaller id.
func beats(x, y info) bool {
	if glare(x, y) {
		return x.Caller < x.Callee
	}
	if xa, ya := x.State == stateActive, y.State == stateActive; xa != ya {
		return xa
	}
	if x.Created != y.Created {
		return x.Created < y.Created
	}
	return x.ID < y.ID
}

// lossReason is why y ends when it loses to x.
func lossReason(x, y info) string {
	if glare(x, y) {
		return ReasonGlare
	}
	return ReasonBusy
}

// call is a call this node coordinates.
type call struct {
	// mu serializes the call's changes and the publications that announce
	// them, so every device sees its events in order.
	mu       sync.Mutex
	info     // also copied into the index under Service.mu
	from     parley.UserRef
	answered time.Time
	timer    *time.Timer
}

// entry is a call in a node's index.
type entry struct {
	info
	seen time.Time // last announcement (wall clock), for expiry
}

// setLocked records what is known of a call, unless the index already has
// a newer version. It returns whether the entry changed. s.mu is held.
func (s *Service) setLocked(i info) bool {
	now := time.Now()
	if e := s.index[i.ID]; e != nil {
		if i.Version <= e.Version {
			if i.Version == e.Version {
				e.seen = now
			}
			return false
		}
		s.unlinkLocked(e)
	}
	e := &entry{info: i, seen: now}
	s.index[i.ID] = e
	if i.State != stateEnded {
		for _, uid := range []int64{i.Caller, i.Callee} {
			m := s.byUser[uid]
			if m == nil {
				m = make(map[string]*entry)
				s.byUser[uid] = m
			}
			m[i.ID] = e
		}
	}
	return true
}

// unlinkLocked removes e from the by-user index (not from the index).
func (s *Service) unlinkLocked(e *entry) {
	for _, uid := range []int64{e.Caller, e.Callee} {
		if m := s.byUser[uid]; m != nil {
			delete(m, e.ID)
			if len(m) == 0 {
				delete(s.byUser, uid)
			}
		}
	}
}

// liveLocked returns the live calls involving any of users, each once.
func (s *Service) liveLocked(users ...int64) []*entry {
	var out []*entry
	seen := make(map[string]bool)
	for _, uid := range users {
		for id, e := range s.byUser[uid] {
			if !seen[id] {
				seen[id] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// rivalsLocked returns the ids of this node's live calls, other than x,
// that share a person with x: the calls a change of x may decide.
func (s *Service) rivalsLocked(x info) []string {
	var ids []string
	for _, e := range s.liveLocked(x.Caller, x.Callee) {
		if e.ID != x.ID && s.own[e.ID] != nil {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// settle ends this node's call id if a live call it conflicts with beats
// it (see beats).
func (s *Service) settle(id string) {
	c := s.ownCall(id)
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.State == stateEnded {
		c.mu.Unlock()
		return
	}
	reason := ""
	s.mu.Lock()
	for _, e := range s.liveLocked(c.Caller, c.Callee) {
		if e.ID != c.ID && beats(e.info, c.info) {
			reason = lossReason(e.info, c.info)
			break
		}
	}
	s.mu.Unlock()
	if reason == "" {
		c.mu.Unlock()
		return
	}
	rec := s.endLocked(c, reason, 0)
	c.mu.Unlock()
	s.record(rec)
}

func (s *Service) ownCall(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.own[id]
}

// startLocked makes c live: it rings every device of the callee with the
// caller's offer, tells the caller's other devices, announces the call and
// starts the ring timer. c.mu is held; c is in s.own and the index.
func (s *Service) startLocked(c *call, offer string) {
	from := c.from
	ring := encode(frame{Ev: "call", Type: "ring", CallID: c.ID, ConversationID: c.ConversationID,
		From: &from, Media: c.Media, SDP: offer, TimeoutMS: s.cfg.RingTimeout.Milliseconds()})
	s.toUser(c.Callee, c.ConversationID, ring, "", "")
	out := encode(frame{Ev: "call", Type: "outgoing", CallID: c.ID, ConversationID: c.ConversationID,
		To: c.Callee, Media: c.Media})
	s.toUser(c.Caller, c.ConversationID, out, "", c.CallerConn)
	s.announce(c.info)
	id := c.ID
	c.timer = time.AfterFunc(s.cfg.RingTimeout, func() {
		if !s.enter() {
			return
		}
		defer s.wg.Done()
		s.expire(id)
	})
}

// expire ends a call still ringing when its timer fires.
func (s *Service) expire(id string) {
	c := s.ownCall(id)
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.State != stateRinging {
		c.mu.Unlock()
		return
	}
	rec := s.endLocked(c, ReasonMissed, 0)
	c.mu.Unlock()
	s.record(rec)
}

// accept answers a ringing call from one of the callee's devices.
func (s *Service) accept(m message) (info, error) {
	c := s.ownCall(m.CallID)
	if c == nil {
		return info{}, parley.ErrNotFound
	}
	c.mu.Lock()
	if c.State == stateEnded || m.User != c.Callee {
		c.mu.Unlock()
		return info{}, parley.ErrNotFound
	}
	if c.State == stateActive {
		c.mu.Unlock()
		return info{}, parley.Errorf(parley.ECONFLICT, "The call was already answered.")
	}
	c.State, c.CalleeConn, c.answered = stateActive, m.Conn, s.cfg.Now()
	c.Version++
	if c.timer != nil {
		c.timer.Stop()
	}
	s.mu.Lock()
	s.setLocked(c.info)
	rivals := s.rivalsLocked(c.info)
	s.mu.Unlock()

	answer := encode(frame{Ev: "call", Type: "answer", CallID: c.ID, ConversationID: c.ConversationID, SDP: m.SDP})
	s.toUser(c.Caller, c.ConversationID, answer, c.CallerConn, "")
	elsewhere := encode(frame{Ev: "call", Type: "answered_elsewhere", CallID: c.ID, ConversationID: c.ConversationID})
	s.toUser(c.Callee, c.ConversationID, elsewhere, "", c.CalleeConn)
	s.toUser(c.Caller, c.ConversationID, elsewhere, "", c.CallerConn)
	s.announce(c.info)
	i := c.info
	c.mu.Unlock()

	for _, id := range append(rivals, i.ID) {
		s.settle(id)
	}
	return i, nil
}

// Finishing operations.
const (
	opDecline = "call_decline"
	opCancel  = "call_cancel"
	opHangup  = "call_hangup"
	opGone    = "gone" // a device in the call disconnected
)

// finish ends a call at a person's request: decline (callee, ringing),
// cancel (caller, ringing) or hang up (either; while ringing it cancels or
// declines). The caller of finish records the outcome.
func (s *Service) finish(m message) (info, outcome, error) {
	c := s.ownCall(m.CallID)
	if c == nil {
		return info{}, outcome{}, parley.ErrNotFound
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State == stateEnded || !c.involves(m.User) {
		return info{}, outcome{}, parley.ErrNotFound
	}
	isCaller := m.User == c.Caller
	var reason string
	switch {
	case m.Op == opDecline && isCaller:
		return info{}, outcome{}, parley.Errorf(parley.EINVALID, "Only the person called can decline; cancel instead.")
	case m.Op == opCancel && !isCaller:
		return info{}, outcome{}, parley.Errorf(parley.EINVALID, "Only the caller can cancel; decline instead.")
	case (m.Op == opDecline || m.Op == opCancel) && c.State == stateActive:
		return info{}, outcome{}, parley.Errorf(parley.ECONFLICT, "The call was answered; hang up instead.")
	case c.State == stateActive:
		reason = ReasonHangup
	case isCaller:
		reason = ReasonCancelled
	default:
		reason = ReasonDeclined
	}
	rec := s.endLocked(c, reason, m.User)
	return c.info, rec, nil
}

// gone ends a call when the device that placed or answered it has
// disconnected.
func (s *Service) gone(m message) {
	c := s.ownCall(m.CallID)
	if c == nil {
		return
	}
	c.mu.Lock()
	inCall := (m.User == c.Caller && m.Conn == c.CallerConn) ||
		(m.User == c.Callee && c.CalleeConn != "" && m.Conn == c.CalleeConn)
	if c.State == stateEnded || !inCall {
		c.mu.Unlock()
		return
	}
	rec := s.endLocked(c, ReasonDisconnected, m.User)
	c.mu.Unlock()
	s.record(rec)
}

// outcome is what a call leaves in the history.
type outcome struct {
	info
	name    string // "missed", "declined", "ended"; "" leaves nothing
	seconds int64
}

// endLocked ends c: it tells every device of both people, announces the end
// and returns the system message to write (with record, once c.mu is
// released). Only the coordinator ends a call, under c.mu, once: that is
// what makes the message exactly-once.
func (s *Service) endLocked(c *call, reason string, by int64) outcome {
	prev := c.State
	c.State = stateEnded
	c.Version++
	if c.timer != nil {
		c.timer.Stop()
	}
	out := outcome{info: c.info}
	switch {
	case prev == stateActive:
		out.name = "ended"
		out.seconds = int64(math.Round(s.cfg.Now().Sub(c.answered).Seconds()))
	case reason == ReasonGlare:
		// Withdrawn in favour of the other person's call, which records.
	case reason == ReasonDeclined:
		out.name = "declined"
	default:
		out.name = "missed"
	}
	s.mu.Lock()
	delete(s.own, c.ID)
	s.setLocked(c.info)
	s.mu.Unlock()
	ended := encode(frame{Ev: "call", Type: "ended", CallID: c.ID, ConversationID: c.ConversationID,
		Reason: reason, By: by, Seconds: out.seconds})
	s.toUser(c.Caller, c.ConversationID, ended, "", "")
	s.toUser(c.Callee, c.ConversationID, ended, "", "")
	s.announce(c.info)
	return out
}

// record writes a call's system message: ActorID is the caller, TargetID
// the callee.
func (s *Service) record(o outcome) {
	if o.name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.svc.AppendSystem(ctx, o.ConversationID, parley.SystemInfo{Event: parley.SysCall, Name: o.name,
		Media: o.Media, Seconds: o.seconds, ActorID: o.Caller, TargetID: o.Callee})
	if err != nil {
		s.log.Error("calls: system message not written", "call", o.ID, "conversation", o.ConversationID, "err", err)
	}
}

// toUser delivers an event to a person's devices on every node: to connID
// only, when set; to all but exceptConn, when set.
func (s *Service) toUser(userID, conversationID int64, frame []byte, connID, exceptConn string) {
	s.publish(parley.UserTopic(userID), parley.MarshalEvent(parley.Event{Type: parley.EventFrame,
		ConversationID: conversationID, UserID: userID, ConnID: connID, ExceptConn: exceptConn, Frame: frame}))
}
