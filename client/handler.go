package client

import (
	"encoding/json"
	"time"

	"parley"
)

// Handler receives a realtime session's events. Every field is optional.
//
// The functions are called one at a time, never concurrently, mostly from
// the session's reader goroutine. They must return quickly and must not
// wait on the session: calling Send, Request, Receipt, Typing, Edit, Delete
// or Close from a Handler function deadlocks. Start a goroutine for that.
type Handler struct {
	// OnMessage gets each message of each conversation exactly once with
	// change ChangeNew, in seq order without gaps (after a starting point:
	// see Realtime), and later edits and deletions of messages already
	// delivered with change ChangeEdited or ChangeDeleted. A message that
	// changed before it was delivered comes once, as new, in its newest
	// version. A change may rarely come twice (after a reconnect); it always
	// carries the message's full current state.
	OnMessage func(m parley.Message, change string)
	// OnReceipt gets a member's delivered and read marks.
	OnReceipt func(Receipt)
	// OnTyping gets typing indicators of other members.
	OnTyping func(Typing)
	// OnPresence gets contacts going online and offline.
	OnPresence func(Presence)
	// OnMember gets members joining, leaving, being removed or changing
	// role.
	OnMember func(MemberEvent)
	// OnConversation gets conversations created, added, renamed, with a new
	// code, or removed, and, with change "sync", each conversation's state
	// (and its members' marks) after every sync.
	OnConversation func(ConversationEvent)
	// OnEvent gets every other event (for example "call") as its raw JSON
	// object.
	OnEvent func(ev string, raw json.RawMessage)
	// OnState gets the session's state changes: StateConnected after each
	// (re)connection has synced, StateReconnecting (with the error that
	// ended the connection) once per outage, and StateClosed once, at the
	// end (err nil after Close, ErrSessionEnded after a logout or revoked
	// session, or the error that made reconnecting pointless).
	OnState func(s State, err error)
}

// ChangeSync is the change of a ConversationEvent that reports a
// conversation's state after a sync.
const ChangeSync = "sync"

// Receipt is a member's receipt marks in a conversation.
type Receipt struct {
	ConversationID int64
	UserID         int64
	DeliveredSeq   int64
	ReadSeq        int64
}

// Typing says a member started (Active) or stopped typing. Treat it as
// stopped after ExpiresIn without a refresh.
type Typing struct {
	ConversationID int64
	UserID         int64
	Active         bool
	ExpiresIn      time.Duration
}

// Presence says a contact is online or, with the time they were last seen,
// offline.
type Presence struct {
	UserID   int64
	Online   bool
	LastSeen *time.Time
}

// MemberEvent is a change of a conversation's membership: Change is
// "joined", "left", "removed" or "role".
type MemberEvent struct {
	ConversationID int64
	Change         string
	Member         parley.Member
}

// ConversationEvent is a change of a conversation: Change is "created",
// "added", "renamed", "code", "removed" or ChangeSync. Members is set for
// ChangeSync only.
type ConversationEvent struct {
	Change       string
	Conversation parley.ConversationSummary
	Members      []parley.Member
}

// State is the state of a realtime session.
type State int

// States of a realtime session.
const (
	StateConnecting   State = iota // before the first connection has synced
	StateConnected                 // connected and synced
	StateReconnecting              // the connection was lost; reconnecting with backoff
	StateClosed                    // ended for good
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}
