package parley

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// A message is encoded on every send twice (its event and the sender's
// reply), so those two have their own encoder, AppendJSON: the bytes are
// exactly what encoding/json makes of Message's field tags
// (message_json_test.go checks it field by field, and fails when Message
// gains a field this encoder does not write: add the field to AppendJSON
// too). It is not Message's MarshalJSON on purpose: encoding/json re-scans
// a Marshaler's output byte by byte, which costs more than its reflection.

// AppendJSON appends m's JSON encoding, as encoding/json writes it, to b.
func (m *Message) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"conversation_id":`...)
	b = strconv.AppendInt(b, m.ConversationID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"mod":`...)
	b = strconv.AppendInt(b, m.Mod, 10)
	b = append(b, `,"sender_id":`...)
	b = strconv.AppendInt(b, m.SenderID, 10)
	if m.Sender != nil {
		b = append(b, `,"sender":{"id":`...)
		b = strconv.AppendInt(b, m.Sender.ID, 10)
		b = append(b, `,"username":`...)
		b = AppendJSONString(b, m.Sender.Username)
		b = append(b, `,"display_name":`...)
		b = AppendJSONString(b, m.Sender.DisplayName)
		b = append(b, '}')
	}
	if m.ClientMsgID != "" {
		b = append(b, `,"client_msg_id":`...)
		b = AppendJSONString(b, m.ClientMsgID)
	}
	b = append(b, `,"kind":`...)
	b = AppendJSONString(b, m.Kind)
	b = append(b, `,"text":`...)
	b = AppendJSONString(b, m.Text)
	if s := m.System; s != nil {
		b = append(b, `,"system":{"event":`...)
		b = AppendJSONString(b, s.Event)
		if s.ActorID != 0 {
			b = append(b, `,"actor_id":`...)
			b = strconv.AppendInt(b, s.ActorID, 10)
		}
		if s.TargetID != 0 {
			b = append(b, `,"target_id":`...)
			b = strconv.AppendInt(b, s.TargetID, 10)
		}
		if s.Name != "" {
			b = append(b, `,"name":`...)
			b = AppendJSONString(b, s.Name)
		}
		if s.Media != "" {
			b = append(b, `,"media":`...)
			b = AppendJSONString(b, s.Media)
		}
		if s.Seconds != 0 {
			b = append(b, `,"seconds":`...)
			b = strconv.AppendInt(b, s.Seconds, 10)
		}
		b = append(b, '}')
	}
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, m.CreatedAt)
	if m.EditedAt != nil {
		b = append(b, `,"edited_at":`...)
		b = appendJSONTime(b, *m.EditedAt)
	}
	if m.DeletedAt != nil {
		b = append(b, `,"deleted_at":`...)
		b = appendJSONTime(b, *m.DeletedAt)
	}
	if len(m.Mentions) > 0 {
		b = append(b, `,"mentions":[`...)
		for i, id := range m.Mentions {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		b = append(b, ']')
	}
	if len(m.Attachments) > 0 {
		b = append(b, `,"attachments":[`...)
		for i := range m.Attachments {
			if i > 0 {
				b = append(b, ',')
			}
			b = m.Attachments[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if m.ReplyTo != 0 {
		b = append(b, `,"reply_to":`...)
		b = strconv.AppendInt(b, m.ReplyTo, 10)
	}
	if p := m.Reply; p != nil {
		b = p.appendJSON(append(b, `,"reply":`...))
	}
	if len(m.Reactions) > 0 {
		b = AppendReactionsJSON(append(b, `,"reactions":`...), m.Reactions)
	}
	if m.Forwarded {
		b = append(b, `,"forwarded":true`...)
	}
	return append(b, '}')
}

// AppendReactionsJSON appends list's JSON encoding, as encoding/json
// writes it (a nil list as []).
func AppendReactionsJSON(b []byte, list []Reaction) []byte {
	b = append(b, '[')
	for i, r := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"emoji":`...)
		b = AppendJSONString(b, r.Emoji)
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(r.Count), 10)
		b = append(b, `,"users":`...)
		if r.Users == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, id := range r.Users {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, id, 10)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSON appends p's JSON encoding, as encoding/json writes it.
func (p *ReplyPreview) appendJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	if p.Sender != nil {
		b = appendUserRef(append(b, `,"sender":`...), p.Sender)
	}
	b = append(b, `,"kind":`...)
	b = AppendJSONString(b, p.Kind)
	b = append(b, `,"text":`...)
	b = AppendJSONString(b, p.Text)
	if p.Attachments != 0 {
		b = append(b, `,"attachments":`...)
		b = strconv.AppendInt(b, int64(p.Attachments), 10)
	}
	if p.ContentType != "" {
		b = append(b, `,"content_type":`...)
		b = AppendJSONString(b, p.ContentType)
	}
	if p.Name != "" {
		b = append(b, `,"name":`...)
		b = AppendJSONString(b, p.Name)
	}
	if p.Deleted {
		b = append(b, `,"deleted":true`...)
	}
	return append(b, '}')
}

// appendUserRef appends r's JSON encoding, as encoding/json writes it.
func appendUserRef(b []byte, r *UserRef) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"username":`...)
	b = AppendJSONString(b, r.Username)
	b = append(b, `,"display_name":`...)
	b = AppendJSONString(b, r.DisplayName)
	return append(b, '}')
}

// appendJSON appends a's JSON encoding, as encoding/json writes it.
func (a *Attachment) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, a.Name)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, a.Size, 10)
	b = append(b, `,"content_type":`...)
	b = AppendJSONString(b, a.ContentType)
	if a.Width != 0 {
		b = append(b, `,"width":`...)
		b = strconv.AppendInt(b, int64(a.Width), 10)
	}
	if a.Height != 0 {
		b = append(b, `,"height":`...)
		b = strconv.AppendInt(b, int64(a.Height), 10)
	}
	if a.Duration != 0 {
		b = append(b, `,"duration":`...)
		b = appendJSONFloat(b, a.Duration)
	}
	b = append(b, `,"url":`...)
	b = AppendJSONString(b, a.URL)
	if a.ThumbnailURL != "" {
		b = append(b, `,"thumbnail_url":`...)
		b = AppendJSONString(b, a.ThumbnailURL)
	}
	return append(b, '}')
}

// appendJSONFloat appends a finite f as encoding/json writes a float64:
// plain digits, or an exponent (without a leading zero) for the very small
// and the very large.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 → e-7
		b = b[:n-1]
	}
	return b
}

// appendJSONTime appends t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds, quoted) for the years 0 to 9999 that it accepts.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string exactly as encoding/json
// writes it: HTML characters, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
