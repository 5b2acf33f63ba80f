package presence

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Wire format of the messages on parley.PresenceTopic:
//
//	version (1 byte, 1) · kind (1 byte) · uvarint len(node) · node · body
//
// The bodies by kind:
//
//	kindDelta  uvarint n, then n × (varint userID · 1 byte online)
//	kindFull   uvarint n, then the n user ids ascending: the first as a
//	kindHello  varint, each next one as the uvarint gap to the one before
//	kindLeave  nothing
//
// kindFull is the periodic heartbeat: the node's whole online set. kindHello
// is the same, sent by a node when it starts, and asks the others to send a
// kindFull at once so that it learns their sets without waiting a heartbeat.
// A receiver ignores messages of another version or an unknown kind.
const (
	wireVersion = 1

	kindDelta = 1
	kindFull  = 2
	kindHello = 3
	kindLeave = 4
)

var errMalformed = errors.New("presence: malformed message")

// message is a decoded presence message.
type message struct {
	kind   byte
	node   string
	deltas []delta // kindDelta
	users  []int64 // kindFull and kindHello, ascending, distinct
}

// delta is one user's local connection count going 0→1 (online) or 1→0.
type delta struct {
	userID int64
	online bool
}

func appendHeader(b []byte, kind byte, node string) []byte {
	b = append(b, wireVersion, kind)
	b = binary.AppendUvarint(b, uint64(len(node)))
	return append(b, node...)
}

func encodeDeltas(node string, deltas []delta) []byte {
	b := appendHeader(make([]byte, 0, 16+len(node)+11*len(deltas)), kindDelta, node)
	b = binary.AppendUvarint(b, uint64(len(deltas)))
	for _, d := range deltas {
		b = binary.AppendVarint(b, d.userID)
		if d.online {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

// encodeSet encodes a kindFull or kindHello message. It sorts users.
func encodeSet(kind byte, node string, users []int64) []byte {
	slices.Sort(users)
	b := appendHeader(make([]byte, 0, 16+len(node)+3*len(users)), kind, node)
	b = binary.AppendUvarint(b, uint64(len(users)))
	for i, id := range users {
		if i == 0 {
			b = binary.AppendVarint(b, id)
		} else {
			b = binary.AppendUvarint(b, uint64(id-users[i-1]))
		}
	}
	return b
}

func encodeLeave(node string) []byte { return appendHeader(nil, kindLeave, node) }

// decode parses a message. It returns ok=false, with no error, for a
// message of another version or kind, which the receiver skips.
func decode(b []byte) (m message, ok bool, err error) {
	if len(b) < 2 {
		return m, false, errMalformed
	}
	if b[0] != wireVersion {
		return m, false, nil
	}
	m.kind, b = b[1], b[2:]
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return m, false, errMalformed
	}
	m.node, b = string(b[n:n+int(l)]), b[n+int(l):]

	switch m.kind {
	case kindLeave:
	case kindDelta:
		count, n := binary.Uvarint(b)
		if n <= 0 || count > uint64(len(b)-n)/2 { // each delta takes 2 bytes or more
			return m, false, errMalformed
		}
		b = b[n:]
		m.deltas = make([]delta, 0, count)
		for range count {
			id, n := binary.Varint(b)
			if n <= 0 || len(b) < n+1 || b[n] > 1 {
				return m, false, errMalformed
			}
			m.deltas = append(m.deltas, delta{userID: id, online: b[n] == 1})
			b = b[n+1:]
		}
	case kindFull, kindHello:
		count, n := binary.Uvarint(b)
		if n <= 0 || count > uint64(len(b)-n) { // each id takes a byte or more
			return m, false, errMalformed
		}
		b = b[n:]
		m.users = make([]int64, 0, count)
		for i := range count {
			var id int64
			if i == 0 {
				id, n = binary.Varint(b)
			} else {
				var gap uint64
				gap, n = binary.Uvarint(b)
				id = m.users[i-1] + int64(gap)
				if gap == 0 || id <= m.users[i-1] {
					n = 0 // not ascending: malformed
				}
			}
			if n <= 0 {
				return m, false, errMalformed
			}
			m.users = append(m.users, id)
			b = b[n:]
		}
	default:
		return m, false, nil
	}
	if len(b) != 0 {
		return m, false, errMalformed
	}
	return m, true, nil
}
