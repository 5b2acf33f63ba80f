package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"parley"
)

// splitFrame calls fn for each JSON object of a server text frame. A frame
// carries one or more objects separated by '\n' (JSON text never holds a raw
// newline inside a value); blank lines and a trailing '\r' are ignored.
func splitFrame(data []byte, fn func(obj []byte)) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			fn(line)
		}
	}
}

var errFieldsNotObject = errors.New("client: request fields must encode as a JSON object")

// marshalFields encodes an operation's fields as a JSON object (nil for
// none).
func marshalFields(fields any) ([]byte, error) {
	if fields == nil {
		return nil, nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, errFieldsNotObject
	}
	return b, nil
}

// encodeRequest builds the frame {"op":op,"id":id,...fields}. fields is
// nil or a JSON object (from marshalFields).
func encodeRequest(op, id string, fields []byte) []byte {
	b := make([]byte, 0, 24+len(op)+len(id)+len(fields))
	b = append(b, `{"op":`...)
	b = appendString(b, op)
	b = append(b, `,"id":`...)
	b = appendString(b, id)
	if len(fields) > 2 {
		inner := bytes.TrimSpace(fields[1 : len(fields)-1])
		if len(inner) > 0 {
			b = append(b, ',')
			b = append(b, inner...)
		}
	}
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// inbound is every object the server sends, replies and events alike,
// decoded in one pass: each kind uses some of the fields.
type inbound struct {
	Ev    string            `json:"ev"`
	Re    string            `json:"re"`
	OK    bool              `json:"ok"`
	Error *parley.ErrorBody `json:"error"`

	// hello
	User      *parley.User `json:"user"`
	SessionID int64        `json:"session_id"`
	ConnID    string       `json:"conn_id"`
	Limits    *wireLimits  `json:"limits"`

	// message, member, conversation, sync; send/edit/delete replies
	Change       string                      `json:"change"`
	Message      *parley.Message             `json:"message"`
	Member       *parley.Member              `json:"member"`
	Conversation *parley.ConversationSummary `json:"conversation"`
	Duplicate    bool                        `json:"duplicate"`

	// sync
	Messages []parley.Message `json:"messages"`
	Changes  []parley.Message `json:"changes"`
	Members  []parley.Member  `json:"members"`
	HasMore  bool             `json:"has_more"`

	// receipt, typing, presence; receipt replies
	ConversationID int64      `json:"conversation_id"`
	UserID         int64      `json:"user_id"`
	DeliveredSeq   int64      `json:"delivered_seq"`
	ReadSeq        int64      `json:"read_seq"`
	Active         bool       `json:"active"`
	ExpiresInMS    int64      `json:"expires_in_ms"`
	Online         bool       `json:"online"`
	LastSeen       *time.Time `json:"last_seen"`
}

// wireLimits is what the client reads of the hello event's limits.
type wireLimits struct {
	// OpsPerSecond and OpsBurst are the per-connection operation rate
	// limit, if the server announces them.
	OpsPerSecond float64 `json:"ops_per_second"`
	OpsBurst     int     `json:"ops_burst"`
}

// Ops of the realtime protocol.
const (
	opSend    = "send"
	opSync    = "sync"
	opReceipt = "receipt"
	opTyping  = "typing"
	opEdit    = "edit"
	opDelete  = "delete"
	opPing    = "ping"
)

// Fields of the ops the client sends itself.
type (
	sendFields struct {
		ConversationID int64   `json:"conversation_id"`
		ClientMsgID    string  `json:"client_msg_id"`
		Text           string  `json:"text"`
		Attachments    []int64 `json:"attachments,omitempty"`
	}
	syncFields struct {
		Cursors map[string]Cursor `json:"cursors"`
	}
	receiptFields struct {
		ConversationID int64 `json:"conversation_id"`
		DeliveredSeq   int64 `json:"delivered_seq,omitempty"`
		ReadSeq        int64 `json:"read_seq,omitempty"`
	}
	typingFields struct {
		ConversationID int64 `json:"conversation_id"`
		Active         bool  `json:"active"`
	}
	editFields struct {
		ConversationID int64  `json:"conversation_id"`
		Seq            int64  `json:"seq"`
		Text           string `json:"text,omitempty"`
	}
)

// syncRequest encodes the sync op with the cursors.
func syncRequest(id string, cursors map[int64]Cursor) []byte {
	f := syncFields{Cursors: make(map[string]Cursor, len(cursors))}
	for conv, c := range cursors {
		f.Cursors[strconv.FormatInt(conv, 10)] = c
	}
	b, _ := json.Marshal(f) // plain data always encodes
	return encodeRequest(opSync, id, b)
}
