package parley

import (
	"context"
	"time"
)

// Pinned messages and the chat list's own settings (docs/protocol.md,
// "Pins", "Chat list").

const (
	// PinsPerConversation bounds the messages pinned in one conversation.
	PinsPerConversation = 20
	// PinnedChatsMax bounds the conversations one person pins to the top
	// of their chat list.
	PinnedChatsMax = 10
)

// Pin is a pinned message: who pinned it, when, and what it shows (the
// message as it stands now, like a reply's preview).
type Pin struct {
	Seq      int64         `json:"seq"`
	PinnedBy int64         `json:"pinned_by"`
	PinnedAt time.Time     `json:"pinned_at"`
	Message  *ReplyPreview `json:"message"`
}

// PinStore keeps pinned messages.
type PinStore interface {
	// Pin pins (on) or unpins message seq of a conversation on behalf of
	// userID and returns the conversation's pins after it (as Pins).
	// Pinning a pinned message or unpinning one that is not changes
	// nothing (changed false). ENOTFOUND if userID is not a member or
	// there is no such message; EFORBIDDEN if the conversation is a group
	// and userID is not an admin; EINVALID (ErrPinTarget) to pin a system
	// or deleted message; ErrTooManyPins past PinsPerConversation.
	Pin(ctx context.Context, conversationID, seq, userID int64, on bool, now time.Time) (pins []Pin, changed bool, err error)
	// Pins lists a conversation's pinned messages, the latest pinned
	// first; a pinned message since deleted is left out. ENOTFOUND if
	// userID is not a member.
	Pins(ctx context.Context, conversationID, userID int64) ([]Pin, error)
}

// Refusals of Pin.
var (
	ErrPinTarget   = Errorf(EINVALID, "Only messages people wrote, not deleted, can be pinned.")
	ErrTooManyPins = &Error{Code: ECONFLICT, Field: "seq",
		Message: "This conversation has as many pinned messages as it can take; unpin one first."}
	ErrPinForbidden = Errorf(EFORBIDDEN, "Only admins pin messages in a group.")
)

// ChatListEntry is how one person keeps one conversation in their chat
// list: pinned to the top (since PinnedAt), archived (at ArchivedAt; a
// client shows an archived conversation in the list again once a message
// newer than ArchivedAt arrives, unless it is muted), marked unread.
type ChatListEntry struct {
	ConversationID int64      `json:"conversation_id"`
	PinnedAt       *time.Time `json:"pinned_at"`
	ArchivedAt     *time.Time `json:"archived_at"`
	MarkedUnread   bool       `json:"marked_unread"`
}

// ChatListUpdate changes the fields that are non-nil.
type ChatListUpdate struct {
	Pinned       *bool
	Archived     *bool
	MarkedUnread *bool
}

// ChatListStore keeps each person's chat list settings.
type ChatListStore interface {
	// SetChatList changes userID's settings of a conversation and returns
	// them. Pinning a pinned conversation keeps its PinnedAt (archiving
	// likewise). ENOTFOUND if userID is not a member; ErrTooManyPinnedChats
	// when userID has PinnedChatsMax conversations pinned already.
	SetChatList(ctx context.Context, conversationID, userID int64, upd ChatListUpdate, now time.Time) (ChatListEntry, error)
	// ChatList returns userID's settings of the conversations they are a
	// member of that have any (pinned, archived or marked unread),
	// ascending by conversation id.
	ChatList(ctx context.Context, userID int64) ([]ChatListEntry, error)
}

// ErrTooManyPinnedChats refuses pinning one conversation too many.
var ErrTooManyPinnedChats = &Error{Code: ECONFLICT, Field: "pinned",
	Message: "You have pinned as many conversations as you can; unpin one first."}
