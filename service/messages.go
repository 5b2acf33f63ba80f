package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"parley"
)

// Send stores a text message from userID and announces it. The store
// checks, in the transaction that appends, that userID is a member and, in
// a direct chat, that the other person accepts messages. A resent
// clientMsgID returns the original message with created=false and announces
// it again: a resend means the sender never got the acknowledgement, so the
// first announcement may have been lost too (the node that stored the
// message died, or lost the database's answer, before announcing it), and
// members connected elsewhere would otherwise not hear of the message until
// they sync. Clients already holding it drop the repeat by seq.
//
// A resend must carry the original text: clientMsgID already used for
// another text is ECLIENTMSGID, and nothing is stored or announced. Once the
// original was edited or deleted its first text is no longer known, and any
// resend gets the message as it now is.
//
// attachments are uploads of the user's to attach (see Files); with them
// the text (a caption) may be empty.
func (s *Service) Send(ctx context.Context, userID, conversationID int64, clientMsgID, text string, attachments ...int64) (parley.Message, bool, error) {
	return s.SendMessage(ctx, userID, Outgoing{ConversationID: conversationID, ClientMsgID: clientMsgID, Text: text,
		Attachments: attachments})
}

// Outgoing is a message a member sends (SendMessage).
type Outgoing struct {
	ConversationID int64
	ClientMsgID    string
	Text           string
	// Attachments are upload ids (see Send).
	Attachments []int64
	// ReplyTo is the seq of the message this one answers (0: none): one
	// of the conversation's, else EINVALID (field reply_to).
	ReplyTo int64
	// Forwarded marks the message forwarded: Forward sets it, never a
	// client.
	Forwarded bool
}

// SendMessage is Send with every field a message may have.
func (s *Service) SendMessage(ctx context.Context, userID int64, o Outgoing) (parley.Message, bool, error) {
	conversationID, clientMsgID, text, attachments := o.ConversationID, o.ClientMsgID, o.Text, o.Attachments
	if err := parley.ValidateClientMsgID(clientMsgID); err != nil {
		return parley.Message{}, false, err
	} else if err := s.checkAttachments(attachments); err != nil {
		return parley.Message{}, false, err
	}
	if len(attachments) > 0 && strings.TrimSpace(text) == "" {
		text = ""
	} else if err := parley.ValidateText(text); err != nil {
		return parley.Message{}, false, err
	}
	if o.ReplyTo < 0 {
		return parley.Message{}, false, parley.ErrBadReplyTo
	}
	if conversationID <= 0 {
		return parley.Message{}, false, parley.ErrNotFound
	}
	mentions, err := s.mentions(ctx, conversationID, text)
	if err != nil {
		return parley.Message{}, false, err
	}
	m, created, err := s.store.AppendMessage(ctx, parley.NewMessage{ConversationID: conversationID, SenderID: userID,
		ClientMsgID: clientMsgID, Kind: parley.MessageText, Text: text, CreatedAt: s.Now(), Mentions: mentions,
		Attachments: attachments, ReplyTo: o.ReplyTo, Forwarded: o.Forwarded})
	if err != nil {
		return parley.Message{}, false, err
	}
	if !created && m.Text != text && m.EditedAt == nil && m.DeletedAt == nil {
		return parley.Message{}, false, &parley.Error{Code: parley.ECLIENTMSGID, Field: "client_msg_id",
			Message: "This client_msg_id was already used for a message with other text; use a new one for a new message."}
	}
	if created {
		s.sent.Add(1)
	}
	s.publishMessage(ctx, m, "new")
	return m, created, nil
}

// mentions returns the ids of the members that text mentions as @username,
// ascending. Texts without an @ cost no query.
func (s *Service) mentions(ctx context.Context, conversationID int64, text string) ([]int64, error) {
	names := parley.MentionNames(text)
	if len(names) == 0 {
		return nil, nil
	}
	ids, err := s.store.MemberIDsByUsername(ctx, conversationID, names)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// CallPeer returns the person userID may call from a conversation: the
// other member of a direct conversation userID is in (ErrNotFound
// otherwise), who accepts messages and does not block userID
// (ENOTACCEPTING). A group is EINVALID:
// calls are one to one.
func (s *Service) CallPeer(ctx context.Context, userID, conversationID int64) (parley.User, error) {
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return parley.User{}, err
	}
	c, err := s.store.Conversation(ctx, conversationID)
	if err != nil {
		return parley.User{}, err
	}
	if c.Kind != parley.KindDirect {
		return parley.User{}, &parley.Error{Code: parley.EINVALID, Field: "conversation_id",
			Message: "Calls are between the two people of a direct conversation, not groups."}
	}
	members, err := s.store.Members(ctx, conversationID)
	if err != nil {
		return parley.User{}, err
	}
	for _, m := range members {
		if m.UserID == userID {
			continue
		}
		u, err := s.store.User(ctx, m.UserID)
		if err != nil {
			return parley.User{}, err
		}
		accepts, err := s.accepts(ctx, u, userID)
		if err != nil {
			return parley.User{}, err
		}
		if !accepts {
			return parley.User{}, parley.Errorf(parley.ENOTACCEPTING, "%s is not accepting messages or calls.", u.Username)
		}
		return u, nil
	}
	return parley.User{}, parley.ErrNotFound
}

// AppendSystem stores a system message (e.g. a call's outcome) and announces it.
func (s *Service) AppendSystem(ctx context.Context, conversationID int64, info parley.SystemInfo) (parley.Message, error) {
	m, _, err := s.store.AppendMessage(ctx, parley.NewMessage{ConversationID: conversationID, Kind: parley.MessageSystem,
		System: &info, CreatedAt: s.Now()})
	if err != nil {
		return m, err
	}
	s.publishMessage(ctx, m, "new")
	return m, nil
}

// History returns a page of a conversation's messages for a member.
func (s *Service) History(ctx context.Context, userID, conversationID int64, q parley.MessageQuery) ([]parley.Message, bool, error) {
	if q.Limit == 0 {
		q.Limit = parley.PageSizeDefault
	}
	if q.Limit < 1 || q.Limit > parley.PageSizeMax {
		return nil, false, parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.PageSizeMax)
	}
	if q.AfterSeq < 0 || q.BeforeSeq < 0 {
		return nil, false, parley.FieldErrorf("after_seq", "after_seq and before_seq must not be negative.")
	}
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return nil, false, err
	}
	q.Limit++ // one more tells whether more exist
	msgs, err := s.store.Messages(ctx, conversationID, q)
	if err != nil {
		return nil, false, err
	}
	more := len(msgs) == q.Limit
	if more {
		if q.BeforeSeq > 0 {
			msgs = msgs[1:]
		} else {
			msgs = msgs[:len(msgs)-1]
		}
	}
	return msgs, more, nil
}

// HistoryAround returns the page of a conversation's history around seq
// for a member: limit messages, the one at seq first after the limit/2
// before it, and whether more exist before and after the page.
func (s *Service) HistoryAround(ctx context.Context, userID, conversationID, seq int64, limit int) ([]parley.Message, bool, bool, error) {
	if limit == 0 {
		limit = parley.PageSizeDefault
	}
	if limit < 1 || limit > parley.PageSizeMax {
		return nil, false, false, parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.PageSizeMax)
	}
	if seq < 1 {
		return nil, false, false, parley.FieldErrorf("around_seq", "around_seq must be at least 1.")
	}
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return nil, false, false, err
	}
	// One more on each side tells whether more exist: limit+2 splits into
	// limit/2+1 before seq and limit-limit/2+1 from it on.
	msgs, err := s.store.Messages(ctx, conversationID, parley.MessageQuery{AroundSeq: seq, Limit: limit + 2})
	if err != nil {
		return nil, false, false, err
	}
	var before, after int
	for _, m := range msgs {
		if m.Seq < seq {
			before++
		} else {
			after++
		}
	}
	moreBefore, moreAfter := before > limit/2, after > limit-limit/2
	if moreBefore {
		msgs = msgs[1:]
	}
	if moreAfter {
		msgs = msgs[:len(msgs)-1]
	}
	return msgs, moreBefore, moreAfter, nil
}

// Edit replaces the text of the user's own message.
func (s *Service) Edit(ctx context.Context, userID, conversationID, seq int64, text string) (parley.Message, error) {
	if err := parley.ValidateText(text); err != nil {
		return parley.Message{}, err
	}
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return parley.Message{}, err
	}
	mentions, err := s.mentions(ctx, conversationID, text)
	if err != nil {
		return parley.Message{}, err
	}
	m, err := s.store.EditMessage(ctx, conversationID, seq, userID, text, mentions, s.Now())
	if err != nil {
		return m, err
	}
	s.publishMessage(ctx, m, "edited")
	return m, nil
}

// Delete turns a message into a tombstone: the sender's own, or anyone's
// for a group's admins.
func (s *Service) Delete(ctx context.Context, userID, conversationID, seq int64) (parley.Message, error) {
	mem, err := s.member(ctx, conversationID, userID)
	if err != nil {
		return parley.Message{}, err
	}
	m, err := s.store.DeleteMessage(ctx, conversationID, seq, userID, mem.CanModerate(), s.Now())
	if err != nil {
		return m, err
	}
	if s.files != nil {
		s.files.wake() // the attachments' bytes, if it had any
	}
	s.publishMessage(ctx, m, "deleted")
	return m, nil
}

// Receipt moves the user's delivered and read marks forward and tells the
// people concerned.
func (s *Service) Receipt(ctx context.Context, userID, conversationID, delivered, read int64) (parley.Member, error) {
	if delivered < 0 || read < 0 {
		return parley.Member{}, parley.FieldErrorf("read_seq", "Marks must not be negative.")
	}
	if conversationID <= 0 {
		return parley.Member{}, parley.ErrNotFound
	}
	m, changed, err := s.store.SetMarks(ctx, conversationID, userID, delivered, read, s.Now(), s.cfg.LargeGroup)
	if err != nil {
		return m, err
	}
	if changed {
		frame := ReceiptJSON(parley.Member{ConversationID: conversationID, UserID: userID,
			DeliveredSeq: m.DeliveredSeq, ReadSeq: m.ReadSeq})
		topic := parley.ConversationTopic(conversationID)
		if c, err := s.store.Conversation(ctx, conversationID); err == nil && c.Kind == parley.KindGroup && c.MemberCount > s.cfg.LargeGroup {
			topic = parley.UserTopic(userID)
		}
		s.publish(ctx, topic, parley.Event{Type: parley.EventFrame, ConversationID: conversationID, UserID: userID, Frame: frame})
	}
	return m, nil
}

// Typing tells the other members that the user is (or stopped) typing.
func (s *Service) Typing(ctx context.Context, userID, conversationID int64, active bool, connID string) error {
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return err
	}
	frame := encode(TypingFrame{Ev: "typing", ConversationID: conversationID, UserID: userID, Active: active,
		ExpiresInMS: int(TypingTTL.Milliseconds())})
	s.publish(ctx, parley.ConversationTopic(conversationID), parley.Event{Type: parley.EventFrame,
		ConversationID: conversationID, UserID: userID, ExceptConn: connID, Frame: frame})
	return nil
}

// Cursor is what a device holds of a conversation.
type Cursor struct {
	Seq int64 `json:"seq"`
	Mod int64 `json:"mod"`
}

// SyncResult is one conversation's part of a sync.
type SyncResult struct {
	Ev           string                     `json:"ev"`
	Conversation parley.ConversationSummary `json:"conversation"`
	Messages     []parley.Message           `json:"messages"`
	Changes      []parley.Message           `json:"changes"`
	Members      []parley.Member            `json:"members"`
	HasMore      bool                       `json:"has_more"`
	// ChangesMore says more changes remain: sync again from the last
	// change's mod.
	ChangesMore bool `json:"changes_more"`
}

// Sync returns, for each of the user's conversations, what changed since the
// device's cursor; conversations without a cursor come with their latest page.
func (s *Service) Sync(ctx context.Context, userID int64, cursors map[int64]Cursor, emit func(SyncResult) error) error {
	list, err := s.store.Conversations(ctx, userID)
	if err != nil {
		return err
	}
	for _, c := range list {
		fixSummary(&c)
		r := SyncResult{Ev: "sync", Conversation: c, Messages: []parley.Message{}, Changes: []parley.Message{}}
		cur, ok := cursors[c.ID]
		switch {
		case !ok:
			msgs, err := s.store.Messages(ctx, c.ID, parley.MessageQuery{BeforeSeq: c.LastSeq + 1, Limit: parley.PageSizeDefault + 1})
			if err != nil {
				return err
			}
			if len(msgs) > parley.PageSizeDefault {
				msgs, r.HasMore = msgs[1:], true
			}
			r.Messages = msgs
		default:
			if cur.Seq < c.LastSeq {
				msgs, err := s.store.Messages(ctx, c.ID, parley.MessageQuery{AfterSeq: cur.Seq, Limit: parley.SyncPageSize + 1})
				if err != nil {
					return err
				}
				if len(msgs) > parley.SyncPageSize {
					msgs, r.HasMore = msgs[:parley.SyncPageSize], true
				}
				r.Messages = msgs
			}
			if cur.Mod < c.LastMod && cur.Seq > 0 {
				ch, err := s.store.Changes(ctx, c.ID, cur.Mod, min(cur.Seq, c.LastSeq), parley.SyncPageSize+1)
				if err != nil {
					return err
				}
				if len(ch) > parley.SyncPageSize {
					ch, r.ChangesMore = ch[:parley.SyncPageSize], true
				}
				r.Changes = ch
			}
		}
		if c.Kind == parley.KindDirect || c.MemberCount <= s.cfg.LargeGroup {
			if r.Members, err = s.store.Members(ctx, c.ID); err != nil {
				return err
			}
		} else {
			if m, err := s.store.Member(ctx, c.ID, userID); err == nil {
				r.Members = []parley.Member{m}
			}
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// Contacts lists the people whose presence userID may see.
func (s *Service) Contacts(ctx context.Context, userID int64) ([]int64, error) {
	return s.store.Contacts(ctx, userID, s.cfg.LargeGroup)
}

// MessageInfo is who has a message and who read it, with when (see Info).
type MessageInfo struct {
	Seq int64 `json:"seq"`
	// Listed is false in groups above the large-group size, where
	// receipts are counted, not kept per person: Members is empty.
	Listed     bool                `json:"listed"`
	LargeGroup int                 `json:"large_group"`
	Members    []MessageInfoMember `json:"members"`
}

// MessageInfoMember is one other member's receipts of a message. A time is
// exact to the minute (never before the message); it is null while the
// mark has not reached the message, and also when the mark reached it
// without a recorded time (by the member's own send, before this server
// recorded times, or while the group was above the large-group size).
type MessageInfoMember struct {
	UserID      int64      `json:"user_id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	AvatarURL   string     `json:"avatar_url,omitempty"`
	Delivered   bool       `json:"delivered"`
	Read        bool       `json:"read"`
	DeliveredAt *time.Time `json:"delivered_at"`
	ReadAt      *time.Time `json:"read_at"`
}

// Info tells the sender of a text message which other members have it and
// which read it, and when. Only the sender may ask: for anyone else, and
// for a deleted or system message, it is ENOTFOUND like a message that
// does not exist.
func (s *Service) Info(ctx context.Context, userID, conversationID, seq int64) (MessageInfo, error) {
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return MessageInfo{}, err
	}
	m, err := s.store.Message(ctx, conversationID, seq)
	if err != nil {
		return MessageInfo{}, err
	}
	if m.Kind != parley.MessageText || m.SenderID != userID || m.DeletedAt != nil {
		return MessageInfo{}, parley.ErrNotFound
	}
	info := MessageInfo{Seq: seq, LargeGroup: s.cfg.LargeGroup, Members: []MessageInfoMember{}}
	c, err := s.store.Conversation(ctx, conversationID)
	if err != nil {
		return MessageInfo{}, err
	}
	if c.Kind == parley.KindGroup && c.MemberCount > s.cfg.LargeGroup {
		return info, nil
	}
	members, err := s.store.Members(ctx, conversationID)
	if err != nil {
		return MessageInfo{}, err
	}
	times, err := s.store.MarkTimes(ctx, conversationID, seq, m.CreatedAt)
	if err != nil {
		return MessageInfo{}, err
	}
	at := make(map[int64]parley.MarkTime, len(times))
	for _, t := range times {
		at[t.UserID] = t
	}
	info.Listed = true
	for _, mb := range members {
		if mb.UserID == userID {
			continue
		}
		t := at[mb.UserID]
		info.Members = append(info.Members, MessageInfoMember{UserID: mb.UserID, Username: mb.Username,
			DisplayName: mb.DisplayName, AvatarURL: mb.AvatarURL, Delivered: mb.DeliveredSeq >= seq,
			Read: mb.ReadSeq >= seq, DeliveredAt: t.DeliveredAt, ReadAt: t.ReadAt})
	}
	return info, nil
}
