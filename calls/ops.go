package calls

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"parley"
	"parley/ws"
)

// Limits of signaling fields (docs/protocol.md, "Calls").
const (
	SDPMax       = 16 << 10 // bytes of an offer or answer (browsers' are 2 to 10 KiB)
	CandidateMax = 1024     // bytes of a candidate line
)

// Media kinds.
const (
	MediaAudio = "audio"
	MediaVideo = "video"
)

const opAccept = "call_accept"

// frame is the "call" event. Type says which; the other fields are set as
// docs/protocol.md lists for each type.
type frame struct {
	Ev             string          `json:"ev"`
	Type           string          `json:"type"`
	CallID         string          `json:"call_id"`
	ConversationID int64           `json:"conversation_id"`
	From           *parley.UserRef `json:"from,omitempty"`
	To             int64           `json:"to,omitempty"`
	Media          string          `json:"media,omitempty"`
	SDP            string          `json:"sdp,omitempty"`
	Candidate      *candidate      `json:"candidate,omitempty"`
	TimeoutMS      int64           `json:"timeout_ms,omitempty"`
	Reason         string          `json:"reason,omitempty"`
	By             int64           `json:"by,omitempty"`
	Seconds        int64           `json:"seconds,omitempty"`
}

func encode(f frame) []byte { return mustJSON(f) }

// candidate is an ICE candidate as browsers give it
// (RTCIceCandidate.toJSON()), relayed as is.
type candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
	UsernameFragment *string `json:"usernameFragment"`
}

func (c *candidate) validate() error {
	bad := func(s string, n int) bool { return len(s) > n || !utf8.ValidString(s) || hasControl(s) }
	if bad(c.Candidate, CandidateMax) || (c.SDPMid != nil && bad(*c.SDPMid, 64)) ||
		(c.UsernameFragment != nil && bad(*c.UsernameFragment, 256)) {
		return parley.FieldErrorf("candidate", "candidate must be an ICE candidate object of at most %d bytes.", CandidateMax)
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func validateSDP(sdp string) error {
	if sdp == "" || len(sdp) > SDPMax || !utf8.ValidString(sdp) {
		return parley.FieldErrorf("sdp", "sdp must be a session description of 1 to %d bytes.", SDPMax)
	}
	return nil
}

// base are the fields every request has.
type base struct {
	Op string          `json:"op"`
	ID json.RawMessage `json:"id"`
}

// callIDReply is the reply to call_invite.
type callIDReply struct {
	CallID string `json:"call_id"`
}

// opInvite places a call in a direct conversation. This node becomes the
// call's coordinator.
func (s *Service) opInvite(ctx context.Context, conn *ws.Conn, raw []byte) (any, error) {
	var r struct {
		base
		ConversationID int64  `json:"conversation_id"`
		Media          string `json:"media"`
		SDP            string `json:"sdp"`
	}
	if err := parley.Decode(raw, &r); err != nil {
		return nil, err
	}
	callee, err := s.svc.CallPeer(ctx, conn.UserID(), r.ConversationID)
	if err != nil {
		return nil, err
	}
	if r.Media != MediaAudio && r.Media != MediaVideo {
		return nil, parley.FieldErrorf("media", "media must be audio or video.")
	}
	if err := validateSDP(r.SDP); err != nil {
		return nil, err
	}
	// Counted before anything rings: an invite over the limits is refused
	// and leaves nothing, neither a ring nor a note in the history.
	if err := s.svc.ReserveCall(ctx, conn.UserID(), callee.ID); err != nil {
		return nil, err
	}
	u := conn.User()
	c := &call{info: info{ID: s.inst + "." + randomHex(8), ConversationID: r.ConversationID, Media: r.Media,
		Caller: u.ID, Callee: callee.ID, CallerConn: conn.ID(), State: stateRinging,
		Created: s.cfg.Now().UnixNano(), Version: 1},
		from: parley.UserRef{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}}

	c.mu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.mu.Unlock()
		return nil, parley.ErrUnavailable
	}
	live := s.liveLocked(c.Caller, c.Callee)
	for _, e := range live {
		if e.involves(c.Caller) && !glare(e.info, c.info) {
			s.mu.Unlock()
			c.mu.Unlock()
			return nil, parley.Errorf(parley.ECONFLICT, "You are already in a call.")
		}
	}
	for _, e := range live {
		if beats(e.info, c.info) {
			s.mu.Unlock()
			c.mu.Unlock()
			if lossReason(e.info, c.info) == ReasonGlare {
				return nil, parley.Errorf(parley.EGLARE, "They are calling you at this moment: answer their call.")
			}
			// The callee is in a call: the call is refused before it rings
			// and they find a missed call in the conversation.
			s.record(outcome{info: c.info, name: "missed"})
			return nil, parley.Errorf(parley.EBUSY, "They are in another call.")
		}
	}
	s.own[c.ID] = c
	s.setLocked(c.info)
	rivals := s.rivalsLocked(c.info)
	s.mu.Unlock()
	s.startLocked(c, r.SDP)
	c.mu.Unlock()
	if s.cfg.OnRing != nil {
		ring := Ring{CallID: c.ID, ConversationID: c.ConversationID, Media: c.Media, Caller: c.from,
			Callee: c.Callee, Timeout: s.cfg.RingTimeout}
		s.spawn(func() { s.cfg.OnRing(ring) })
	}

	for _, id := range rivals {
		s.settle(id) // glare on this node: the other call loses to this one
	}
	return callIDReply{CallID: c.ID}, nil
}

// opAccept answers a ringing call on this device.
func (s *Service) opAccept(ctx context.Context, conn *ws.Conn, raw []byte) (any, error) {
	var r struct {
		base
		CallID string `json:"call_id"`
		SDP    string `json:"sdp"`
	}
	if err := parley.Decode(raw, &r); err != nil {
		return nil, err
	}
	if _, ok := coordinator(r.CallID); !ok {
		return nil, parley.ErrNotFound
	}
	if err := validateSDP(r.SDP); err != nil {
		return nil, err
	}
	if _, err := s.ask(ctx, message{Op: opAccept, CallID: r.CallID, User: conn.UserID(), Conn: conn.ID(), SDP: r.SDP}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// opFinish returns the handler of call_decline, call_cancel or
// call_hangup.
func (s *Service) opFinish(op string) ws.OpHandler {
	return func(ctx context.Context, conn *ws.Conn, raw []byte) (any, error) {
		var r struct {
			base
			CallID string `json:"call_id"`
		}
		if err := parley.Decode(raw, &r); err != nil {
			return nil, err
		}
		if _, err := s.ask(ctx, message{Op: op, CallID: r.CallID, User: conn.UserID(), Conn: conn.ID()}); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	}
}

// opICE relays an ICE candidate to the other device in the call. It needs
// no coordinator: this node's index knows both devices (the caller's from
// the announcement, the callee's from its accept). Before the answer, the
// caller's candidates go to every device of the callee. Once the call has
// ended, its devices' candidates are dropped without an error.
func (s *Service) opICE(ctx context.Context, conn *ws.Conn, raw []byte) (any, error) {
	var r struct {
		base
		CallID    string     `json:"call_id"`
		Candidate *candidate `json:"candidate"`
	}
	if err := parley.Decode(raw, &r); err != nil {
		return nil, err
	}
	if r.Candidate == nil {
		return nil, parley.FieldErrorf("candidate", "candidate is required.")
	}
	if err := r.Candidate.validate(); err != nil {
		return nil, err
	}
	uid, cid := conn.UserID(), conn.ID()
	s.mu.Lock()
	e := s.index[r.CallID]
	var i info
	if e != nil {
		i = e.info
	}
	s.mu.Unlock()
	var to int64
	var toConn string
	switch {
	case e == nil:
		return nil, parley.ErrNotFound
	case uid == i.Caller && cid == i.CallerConn:
		to, toConn = i.Callee, i.CalleeConn // "" while ringing: every device of the callee
	case uid == i.Callee && i.CalleeConn != "" && cid == i.CalleeConn:
		to, toConn = i.Caller, i.CallerConn
	default:
		return nil, parley.ErrNotFound
	}
	if i.State == stateEnded {
		// Candidates still on their way when the other side hangs up or
		// declines are not the sender's mistake: answered, and dropped.
		return struct{}{}, nil
	}
	f := encode(frame{Ev: "call", Type: "ice", CallID: i.ID, ConversationID: i.ConversationID, Candidate: r.Candidate})
	s.toUser(to, i.ConversationID, f, toConn, "")
	return struct{}{}, nil
}
