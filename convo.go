package parley

import (
	"strings"
	"unicode/utf8"
)

// Living in a conversation: replies, reactions, pins (docs/protocol.md,
// "Replies", "Reactions", "Pins").

// ReplyTextMax bounds the text a reply's preview quotes (characters, of
// the original's first line that is not blank).
const ReplyTextMax = 100

// ReplyPreview is what a reply shows of the message it answers, as that
// message stands now: who sent it, the start of its text, its first
// attachment; Deleted once it was deleted (then no text and no
// attachment).
type ReplyPreview struct {
	Seq         int64    `json:"seq"`
	Sender      *UserRef `json:"sender,omitempty"`
	Kind        string   `json:"kind"`
	Text        string   `json:"text"`
	Attachments int      `json:"attachments,omitempty"`
	// ContentType and Name are the first attachment's.
	ContentType string `json:"content_type,omitempty"`
	Name        string `json:"name,omitempty"`
	Deleted     bool   `json:"deleted,omitempty"`
}

// PreviewOf returns what a reply to m shows of it.
func PreviewOf(m *Message) *ReplyPreview {
	p := &ReplyPreview{Seq: m.Seq, Kind: m.Kind, Deleted: m.DeletedAt != nil}
	if m.Sender != nil {
		p.Sender = new(*m.Sender)
	}
	if p.Deleted {
		return p
	}
	p.Text = FirstLine(m.Text, ReplyTextMax)
	if len(m.Attachments) > 0 {
		p.Attachments = len(m.Attachments)
		p.ContentType, p.Name = m.Attachments[0].ContentType, m.Attachments[0].Name
	}
	return p
}

// FirstLine returns the first line of text that is not blank, trimmed,
// cut to at most max characters (with "…" when cut).
func FirstLine(text string, max int) string {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) > max {
			r := []rune(line)
			line = strings.TrimRightFunc(string(r[:max-1]), func(r rune) bool { return r == ' ' }) + "…"
		}
		return line
	}
	return ""
}

// ErrBadReplyTo refuses a message whose reply_to is not a message of its
// conversation.
var ErrBadReplyTo = &Error{Code: EINVALID, Field: "reply_to", Message: "reply_to must be the seq of a message of this conversation."}
