package ws

import (
	"strconv"
	"unicode/utf8"
)

// sendOp is a decoded send operation.
type sendOp struct {
	id             string
	conversationID int64
	clientMsgID    string
	text           string
	// Set only by the generic decoder (a send with them is not plain).
	attachments []int64
	replyTo     int64
}

// parseSend decodes a send operation in the plain form clients write —
// one object of the keys op ("send"), id (a string), conversation_id (an
// integer), client_msg_id and text, each at most once, strings without
// escapes — in one pass and without reflection: most operations are sends,
// and encoding/json's two passes (the envelope, then the op strictly) cost
// more than the rest of reading them. It reports false for anything else,
// which the generic decoder then handles, with its error messages;
// fastsend_test.go checks that whatever it accepts, the generic decoder
// reads the same.
func parseSend(data []byte) (op sendOp, ok bool) {
	p := scanner{b: data}
	p.space()
	if !p.byte('{') {
		return op, false
	}
	var seen [5]bool
	isSend := false
	for first := true; ; first = false {
		p.space()
		if first && p.byte('}') {
			break
		}
		key, ok := p.plainBytes()
		if !ok {
			return op, false
		}
		p.space()
		if !p.byte(':') {
			return op, false
		}
		p.space()
		k := -1
		switch string(key) { // no allocation: the compiler compares in place
		case "op":
			k = 0
			v, ok := p.plainBytes()
			if !ok || string(v) != "send" {
				return op, false
			}
			isSend = true
		case "id":
			k = 1
			if op.id, ok = p.plainString(); !ok {
				return op, false
			}
		case "conversation_id":
			k = 2
			if op.conversationID, ok = p.integer(); !ok {
				return op, false
			}
		case "client_msg_id":
			k = 3
			if op.clientMsgID, ok = p.plainString(); !ok {
				return op, false
			}
		case "text":
			k = 4
			if op.text, ok = p.plainString(); !ok {
				return op, false
			}
		}
		if k < 0 || seen[k] {
			return op, false
		}
		seen[k] = true
		p.space()
		if p.byte('}') {
			break
		}
		if !p.byte(',') {
			return op, false
		}
	}
	p.space()
	return op, isSend && p.i == len(p.b)
}

// scanner reads JSON tokens from b.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *scanner) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// plainString reads a string without escapes or control characters, in
// valid UTF-8.
func (p *scanner) plainString() (string, bool) {
	b, ok := p.plainBytes()
	return string(b), ok
}

// plainBytes is plainString's bytes, in b.
func (p *scanner) plainBytes() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	ascii := true
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// integer reads a JSON integer that fits an int64.
func (p *scanner) integer() (int64, bool) {
	start := p.i
	p.byte('-')
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	n := p.i - digits
	if n == 0 || (n > 1 && p.b[digits] == '0') {
		return 0, false // none, or a leading zero JSON does not allow
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	if n > 18 { // may not fit: let strconv judge
		v, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
		return v, err == nil
	}
	var v int64
	for _, c := range p.b[digits:p.i] {
		v = v*10 + int64(c-'0')
	}
	if digits > start {
		v = -v
	}
	return v, true
}
