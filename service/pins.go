package service

import (
	"context"

	"parley"
)

// PinsFrame is the `pins` event: a conversation's pinned messages after a
// change.
type PinsFrame struct {
	Ev             string       `json:"ev"`
	ConversationID int64        `json:"conversation_id"`
	Pins           []parley.Pin `json:"pins"`
}

// ChatListFrame is the `chat_list` event: how the user now keeps one
// conversation in their list (to each of their devices).
type ChatListFrame struct {
	Ev    string               `json:"ev"`
	Entry parley.ChatListEntry `json:"entry"`
}

// Pin pins (on) or unpins message seq of a conversation: admins in groups,
// either person in a direct chat. A change reaches every member as a
// `pins` event; doing what is done already announces nothing.
func (s *Service) Pin(ctx context.Context, userID, conversationID, seq int64, on bool) ([]parley.Pin, bool, error) {
	if conversationID <= 0 || seq <= 0 {
		return nil, false, parley.ErrNotFound
	}
	pins, changed, err := s.store.Pin(ctx, conversationID, seq, userID, on, s.Now())
	if err != nil {
		return nil, false, err
	}
	if changed {
		s.publish(ctx, parley.ConversationTopic(conversationID), parley.Event{Type: parley.EventFrame, ConversationID: conversationID,
			Frame: encode(PinsFrame{Ev: "pins", ConversationID: conversationID, Pins: pins})})
	}
	return pins, changed, nil
}

// Pins lists a conversation's pinned messages, the latest pinned first.
func (s *Service) Pins(ctx context.Context, userID, conversationID int64) ([]parley.Pin, error) {
	if conversationID <= 0 {
		return nil, parley.ErrNotFound
	}
	return s.store.Pins(ctx, conversationID, userID)
}

// SetChatList changes how the user keeps a conversation in their chat list
// (pinned to the top, archived, marked unread) and tells their devices.
func (s *Service) SetChatList(ctx context.Context, userID, conversationID int64, upd parley.ChatListUpdate) (parley.ChatListEntry, error) {
	if conversationID <= 0 {
		return parley.ChatListEntry{}, parley.ErrNotFound
	}
	e, err := s.store.SetChatList(ctx, conversationID, userID, upd, s.Now())
	if err != nil {
		return e, err
	}
	s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventFrame, UserID: userID,
		Frame: encode(ChatListFrame{Ev: "chat_list", Entry: e})})
	return e, nil
}

// ChatList returns the user's chat list settings.
func (s *Service) ChatList(ctx context.Context, userID int64) ([]parley.ChatListEntry, error) {
	return s.store.ChatList(ctx, userID)
}
