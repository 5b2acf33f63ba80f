package parley

import (
	"context"
	"strings"
	"time"
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

// Reaction limits (docs/protocol.md, "Reactions").
const (
	// ReactionsPerMessage bounds the different emoji on one message.
	ReactionsPerMessage = 20
	// ReactionsPerPerson bounds the emoji one person puts on one message.
	ReactionsPerPerson = 3
	// ReactionUsersShown bounds the people a reaction names (the first to
	// react); Count has them all.
	ReactionUsersShown = 20
	// EmojiMaxBytes bounds one emoji (sequences joined by ZWJ, flags,
	// keycaps and skin tones included).
	EmojiMaxBytes = 32
)

// Reaction is one emoji on a message: how many put it there, and the
// first of them (at most ReactionUsersShown, in the order they reacted).
type Reaction struct {
	Emoji string  `json:"emoji"`
	Count int     `json:"count"`
	Users []int64 `json:"users"`
}

// ReactionOf is one person's reaction, as stored.
type ReactionOf struct {
	Emoji  string
	UserID int64
}

// SummarizeReactions groups reactions, given in the order they were made,
// by emoji (in the order each emoji first appeared). It returns an empty,
// non-nil list for none.
func SummarizeReactions(list []ReactionOf) []Reaction {
	out := []Reaction{}
	at := map[string]int{}
	for _, r := range list {
		i, ok := at[r.Emoji]
		if !ok {
			i = len(out)
			at[r.Emoji] = i
			out = append(out, Reaction{Emoji: r.Emoji, Users: []int64{}})
		}
		out[i].Count++
		if len(out[i].Users) < ReactionUsersShown {
			out[i].Users = append(out[i].Users, r.UserID)
		}
	}
	return out
}

// ValidateEmoji checks a reaction: one emoji of at most EmojiMaxBytes,
// made only of pictographs, regional indicators, keycaps, skin tones,
// variation selectors, zero-width joiners and tags.
func ValidateEmoji(s string) error {
	bad := FieldErrorf("emoji", "A reaction is one emoji (at most %d bytes).", EmojiMaxBytes)
	if s == "" || len(s) > EmojiMaxBytes || !utf8.ValidString(s) {
		return bad
	}
	picture := false
	for _, r := range s {
		switch {
		case isPictograph(r):
			picture = true
		case r == 0x20E3: // keycap
			picture = true
		case r == 0x200D, r == 0xFE0F, r == 0xFE0E, r >= 0xE0020 && r <= 0xE007F,
			r >= '0' && r <= '9', r == '#', r == '*':
		default:
			return bad
		}
	}
	if !picture {
		return bad
	}
	return nil
}

// isPictograph reports whether r is an emoji of its own (Unicode's
// Extended_Pictographic, regional indicators and skin tones, roughly: the
// ranges emoji are assigned in).
func isPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2300 && r <= 0x23FF,
		r >= 0x2190 && r <= 0x21FF, r >= 0x2B00 && r <= 0x2BFF, r >= 0x2900 && r <= 0x297F,
		r >= 0x25A0 && r <= 0x25FF:
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}

// ReactionStore keeps reactions to messages.
type ReactionStore interface {
	// React adds (on) or removes userID's reaction emoji on message seq.
	// Adding one that is there, or removing one that is not, changes
	// nothing (changed false). A change stores the message's new
	// Reactions and gives it a new Mod (the conversation's change counter
	// moves), in one transaction, so that sync carries it as a change.
	// It returns the message as it now is. ENOTFOUND if userID is not a
	// member or there is no such message; EINVALID for a system or a
	// deleted message; ECONFLICT (field emoji) when the message has
	// ReactionsPerMessage different emoji already or userID
	// ReactionsPerPerson on it. Deleting a message deletes its reactions.
	React(ctx context.Context, conversationID, seq, userID int64, emoji string, on bool, now time.Time) (Message, bool, error)
}

// Refusals of React past the limits.
var (
	ErrTooManyReactions = &Error{Code: ECONFLICT, Field: "emoji",
		Message: "This message has as many different reactions as it can take; add one of those."}
	ErrTooManyOwnReactions = &Error{Code: ECONFLICT, Field: "emoji",
		Message: "You have put as many reactions on this message as you can; take one back first."}
	ErrReactionTarget = Errorf(EINVALID, "Only messages people wrote, not deleted, take reactions.")
)
