package service

import (
	"context"
	"strconv"

	"parley"
)

// React adds (on) or removes the user's reaction emoji on message seq of a
// conversation. Doing what is done already changes nothing and announces
// nothing (changed false): the operation is idempotent, whatever device
// repeats it. A change reaches every member as a `reaction` event.
func (s *Service) React(ctx context.Context, userID, conversationID, seq int64, emoji string, on bool) (parley.Message, bool, error) {
	if err := parley.ValidateEmoji(emoji); err != nil {
		return parley.Message{}, false, err
	}
	if conversationID <= 0 || seq <= 0 {
		return parley.Message{}, false, parley.ErrNotFound
	}
	m, changed, err := s.store.React(ctx, conversationID, seq, userID, emoji, on, s.Now())
	if err != nil {
		return parley.Message{}, false, err
	}
	if changed {
		s.publish(ctx, parley.ConversationTopic(conversationID), parley.Event{Type: parley.EventFrame,
			ConversationID: conversationID, Mod: m.Mod, Frame: ReactionJSON(&m, userID, emoji, on)})
	}
	return m, changed, nil
}

// ReactionJSON encodes a `reaction` event: who put (on) or took back
// which emoji, and the message's reactions and mod after it.
func ReactionJSON(m *parley.Message, userID int64, emoji string, on bool) []byte {
	b := make([]byte, 0, 160)
	b = append(b, `{"ev":"reaction","conversation_id":`...)
	b = strconv.AppendInt(b, m.ConversationID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"mod":`...)
	b = strconv.AppendInt(b, m.Mod, 10)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, userID, 10)
	b = append(b, `,"emoji":`...)
	b = parley.AppendJSONString(b, emoji)
	b = strconv.AppendBool(append(b, `,"on":`...), on)
	b = parley.AppendReactionsJSON(append(b, `,"reactions":`...), m.Reactions)
	return append(b, '}')
}
