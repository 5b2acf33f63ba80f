package parley

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
)

// Bus carries events between the nodes of a deployment (and within one
// node). hub.Bus (in-process) and nats.Bus implement it; bustest.Run checks
// both against the same suite.
//
// The database is the source of truth: the bus carries notifications, and a
// client that misses one converges through sync.
type Bus interface {
	// Publish sends data to every subscriber of topic, on every node.
	// Messages from one publisher to one topic arrive in publish order.
	Publish(ctx context.Context, topic string, data []byte) error
	// Subscribe calls handler for each message published to topic until
	// unsubscribe is called. The handler must not block: it runs on the
	// bus's delivery goroutine. Implementations pass a buffer they never
	// reuse, so handlers may keep data but must not modify it.
	Subscribe(topic string, handler func(data []byte)) (unsubscribe func(), err error)
	// Close releases the bus; later calls fail.
	Close() error
}

// Topics.
func ConversationTopic(id int64) string { return "conv." + strconv.FormatInt(id, 10) }
func UserTopic(id int64) string         { return "user." + strconv.FormatInt(id, 10) }

// PresenceTopic carries presence heartbeats between nodes.
const PresenceTopic = "presence"

// Event types carried on the bus.
const (
	// EventFrame delivers Frame to the local connections interested in the
	// topic it was published on (a conversation's members, or a user's
	// devices). If ConnID is set, only to that connection; if ExceptConn is
	// set, to all but that one.
	EventFrame byte = 1
	// EventJoin tells nodes that UserID is now a member of ConversationID:
	// their connections start receiving the conversation's events. Frame,
	// if any, is delivered to the user's connections.
	EventJoin byte = 2
	// EventLeave tells nodes that UserID is no longer a member of
	// ConversationID: their connections stop receiving its events at once.
	// Frame, if any, is delivered to the user's connections first.
	EventLeave byte = 3
	// EventRevoke closes the connections of session SessionID (of user
	// UserID), or of all the user's sessions but SessionID when All is set.
	EventRevoke byte = 4
)

// Event is what travels on the bus: a kind, the ids it concerns and, for
// frames, the WebSocket payload, encoded once by the publisher and written
// unchanged to every connection.
type Event struct {
	Type           byte
	ConversationID int64
	UserID         int64
	SessionID      int64
	All            bool
	ConnID         string
	ExceptConn     string
	// Seq is set on frames that carry a new message: connections use it to
	// never write the same message twice (for example once from a sync and
	// once live).
	Seq int64
	// Mod is set on frames that carry a message (new, edited or deleted):
	// the message's mod, the conversation's change counter, which grows by
	// one with each of them. Nodes use it to notice the message events the
	// bus lost (package repair). On EventJoin it is the mod of the first
	// change the joiner is to receive (0: not known).
	Mod   int64
	Frame []byte
}

// MarshalEvent encodes e compactly: type, varint fields, then the frame.
func MarshalEvent(e Event) []byte {
	b := make([]byte, 0, 32+len(e.ConnID)+len(e.ExceptConn)+len(e.Frame))
	b = append(b, e.Type)
	b = binary.AppendVarint(b, e.ConversationID)
	b = binary.AppendVarint(b, e.UserID)
	b = binary.AppendVarint(b, e.SessionID)
	b = binary.AppendVarint(b, e.Seq)
	b = binary.AppendVarint(b, e.Mod)
	all := byte(0)
	if e.All {
		all = 1
	}
	b = append(b, all)
	b = binary.AppendUvarint(b, uint64(len(e.ConnID)))
	b = append(b, e.ConnID...)
	b = binary.AppendUvarint(b, uint64(len(e.ExceptConn)))
	b = append(b, e.ExceptConn...)
	return append(b, e.Frame...)
}

var errBadEvent = errors.New("malformed bus event")

// UnmarshalEvent decodes what MarshalEvent encoded. Frame aliases data.
func UnmarshalEvent(data []byte) (Event, error) {
	var e Event
	if len(data) < 1 {
		return e, errBadEvent
	}
	e.Type, data = data[0], data[1:]
	for _, p := range []*int64{&e.ConversationID, &e.UserID, &e.SessionID, &e.Seq, &e.Mod} {
		v, n := binary.Varint(data)
		if n <= 0 {
			return e, errBadEvent
		}
		*p, data = v, data[n:]
	}
	if len(data) < 1 {
		return e, errBadEvent
	}
	e.All, data = data[0] == 1, data[1:]
	for _, p := range []*string{&e.ConnID, &e.ExceptConn} {
		l, n := binary.Uvarint(data)
		if n <= 0 || uint64(len(data)-n) < l {
			return e, errBadEvent
		}
		*p, data = string(data[n:n+int(l)]), data[n+int(l):]
	}
	if len(data) > 0 {
		e.Frame = data
	}
	return e, nil
}
