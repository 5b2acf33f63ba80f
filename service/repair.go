package service

import (
	"context"

	"parley"
)

// What a node's repair loop (package repair) needs to find and deliver the
// message events the bus lost.

// Heads returns the heads of conversations ids (see parley.HeadStore).
func (s *Service) Heads(ctx context.Context, ids []int64) ([]parley.ConvHead, error) {
	return s.store.ConversationHeads(ctx, ids)
}

// UserHeads returns the heads of userID's conversations, ascending by id.
func (s *Service) UserHeads(ctx context.Context, userID int64) ([]parley.ConvHead, error) {
	return s.store.UserConversationHeads(ctx, userID)
}

// Missed returns the message events of conversation id that a node lacks
// when it has delivered every event up to mod and every message up to seq
// (and no message created above mod has a seq up to seq): the messages
// after seq, and those up to seq edited or deleted after mod, each in its
// current version, at most limit of each, read a page at a time. more says
// some were left out.
func (s *Service) Missed(ctx context.Context, id, seq, mod int64, limit int) (news, changes []parley.Message, more bool, err error) {
	const page = parley.SyncPageSize
	for after := seq; ; {
		msgs, err := s.store.Messages(ctx, id, parley.MessageQuery{AfterSeq: after, Limit: page})
		if err != nil {
			return nil, nil, false, err
		}
		news = append(news, msgs...)
		if len(news) > limit {
			return news[:limit], nil, true, nil
		}
		if len(msgs) < page {
			break
		}
		after = msgs[len(msgs)-1].Seq
	}
	for seq > 0 {
		ch, err := s.store.Changes(ctx, id, mod, seq, page)
		if err != nil {
			return nil, nil, false, err
		}
		changes = append(changes, ch...)
		if len(changes) > limit {
			return news, changes[:limit], true, nil
		}
		if len(ch) < page {
			break
		}
		mod = ch[len(ch)-1].Mod
	}
	return news, changes, false, nil
}

// Marks returns the members of conversation id with their marks, and
// whether receipts in it go only to each member's own devices (a group
// above LargeGroup members).
func (s *Service) Marks(ctx context.Context, id int64) ([]parley.Member, bool, error) {
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return nil, false, err
	}
	members, err := s.store.Members(ctx, id)
	return members, c.Kind == parley.KindGroup && c.MemberCount > s.cfg.LargeGroup, err
}
