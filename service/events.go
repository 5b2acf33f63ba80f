package service

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"parley"
)

// Event frames written to WebSocket clients (docs/protocol.md, "Events").
// Each is encoded once by the node that publishes it.

// MessageFrame is the `message` event.
type MessageFrame struct {
	Ev      string         `json:"ev"`
	Change  string         `json:"change"`
	Message parley.Message `json:"message"`
}

// ReceiptFrame is the `receipt` event.
type ReceiptFrame struct {
	Ev             string `json:"ev"`
	ConversationID int64  `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	DeliveredSeq   int64  `json:"delivered_seq"`
	ReadSeq        int64  `json:"read_seq"`
}

// TypingFrame is the `typing` event.
type TypingFrame struct {
	Ev             string `json:"ev"`
	ConversationID int64  `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	Active         bool   `json:"active"`
	ExpiresInMS    int    `json:"expires_in_ms"`
}

// PresenceFrame is the `presence` event.
type PresenceFrame struct {
	Ev       string     `json:"ev"`
	UserID   int64      `json:"user_id"`
	Online   bool       `json:"online"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
}

// MemberFrame is the `member` event.
type MemberFrame struct {
	Ev             string        `json:"ev"`
	ConversationID int64         `json:"conversation_id"`
	Change         string        `json:"change"`
	Member         parley.Member `json:"member"`
}

// ConversationFrame is the `conversation` event.
type ConversationFrame struct {
	Ev           string                     `json:"ev"`
	Change       string                     `json:"change"`
	Conversation parley.ConversationSummary `json:"conversation"`
}

// TypingTTL is how long a typing indicator lasts without a refresh.
const TypingTTL = 5 * time.Second

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("encode event: " + err.Error()) // only our own types are encoded
	}
	return b
}

// PresenceJSON encodes a presence event.
func PresenceJSON(userID int64, online bool, lastSeen *time.Time) []byte {
	return encode(PresenceFrame{Ev: "presence", UserID: userID, Online: online, LastSeen: lastSeen})
}

// MessageJSON encodes a `message` event: the bytes encoding/json makes of
// MessageFrame, written without reflection (it is on every send's path).
// change is one of the plain words new, edited, deleted.
func MessageJSON(m *parley.Message, change string) []byte {
	b := make([]byte, 0, 320+len(m.Text))
	b = append(b, `{"ev":"message","change":"`...)
	b = append(b, change...)
	b = append(b, `","message":`...)
	b = m.AppendJSON(b)
	return append(b, '}')
}

// publishMessage announces a new or changed message to the conversation's
// members. In a direct conversation the event leaves out the sender's
// names: both members know each other (the conversation's peer), and
// sender_id says who wrote.
func (s *Service) publishMessage(ctx context.Context, m parley.Message, change string) {
	if s.kinds.kind(ctx, s.store, m.ConversationID) == parley.KindDirect {
		m.Sender = nil
	}
	e := parley.Event{Type: parley.EventFrame, ConversationID: m.ConversationID, Mod: m.Mod, Frame: MessageJSON(&m, change)}
	if change == "new" {
		e.Seq = m.Seq
	}
	s.publish(ctx, parley.ConversationTopic(m.ConversationID), e)
}

// ReceiptJSON encodes a receipt event with a member's marks.
func ReceiptJSON(m parley.Member) []byte {
	return encode(ReceiptFrame{Ev: "receipt", ConversationID: m.ConversationID, UserID: m.UserID,
		DeliveredSeq: m.DeliveredSeq, ReadSeq: m.ReadSeq})
}

// kindCache keeps conversations' kinds, which never change.
type kindCache struct {
	mu sync.Mutex
	m  map[int64]string
}

// kindsMax bounds the kinds kept; past it the cache starts over.
const kindsMax = 100_000

// kind returns a conversation's kind, "" if it cannot be read.
func (k *kindCache) kind(ctx context.Context, store parley.ConversationStore, id int64) string {
	k.mu.Lock()
	kind, ok := k.m[id]
	k.mu.Unlock()
	if ok {
		return kind
	}
	c, err := store.Conversation(ctx, id)
	if err != nil {
		return ""
	}
	k.mu.Lock()
	if k.m == nil || len(k.m) >= kindsMax {
		k.m = make(map[int64]string)
	}
	k.m[id] = c.Kind
	k.mu.Unlock()
	return c.Kind
}
