package push

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
)

// Limits of the decision.
const (
	// checkHold is how long a node holds a conversation it decides for:
	// if it dies meanwhile, another node takes the conversation then.
	checkHold = 30 * time.Second
	// checkBatch is the conversations taken per store call.
	checkBatch = 50
	// checkMessages is the newest messages read per conversation; a burst
	// longer than that counts as checkMessages ("99 new messages" at most
	// is what people read anyway).
	checkMessages = 100
	// PreviewMax is the characters of a message's text a notification
	// shows.
	PreviewMax = 200
)

// Payload is the JSON a push carries to the service worker
// (docs/protocol.md, "Push payload").
type Payload struct {
	// Type is "message" or "call".
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	// Seq is the newest message the notification covers.
	Seq   int64  `json:"seq,omitempty"`
	Title string `json:"title"`
	Body  string `json:"body"`
	// Tag is the notification's tag: one notification per conversation
	// (calls: per call), replaced as more arrive.
	Tag string `json:"tag"`
	// URL is the page of the web app to open on a click.
	URL string `json:"url"`
	// Count is how many messages the notification covers (a burst).
	Count int `json:"count,omitempty"`
	// Badge is the user's unread total over all conversations.
	Badge int64 `json:"badge"`
	// Mention is set when a covered message mentions the user.
	Mention  bool  `json:"mention,omitempty"`
	SenderID int64 `json:"sender_id,omitempty"`
	// CallID and Media describe an incoming call.
	CallID string `json:"call_id,omitempty"`
	Media  string `json:"media,omitempty"`
	// Timestamp is when the newest event covered happened (Unix ms).
	Timestamp int64 `json:"timestamp"`
}

// Tag is the notification tag (and RFC 8030 Topic) of a conversation's
// messages.
func Tag(conversationID int64) string { return "conversation-" + strconv.FormatInt(conversationID, 10) }

// decideLoop takes the conversations whose push decision is due.
func (s *Service) decideLoop() {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for {
			now := s.cfg.Now()
			ids, err := s.store.DuePushChecks(context.Background(), now.Add(-s.cfg.Delay), now.Add(checkHold), checkBatch)
			if err != nil {
				s.log.Warn("push: due checks", "err", err)
				break
			}
			queued := false
			for _, id := range ids {
				n, err := s.check(context.Background(), id)
				if err != nil {
					// The conversation comes back when the hold ends.
					s.log.Warn("push: decision", "conversation", id, "err", err)
				}
				queued = queued || n > 0
			}
			if queued {
				s.poke()
			}
			if len(ids) < checkBatch {
				break
			}
		}
	}
}

// check makes the push decision for one conversation and returns how many
// members it queued pushes for.
func (s *Service) check(ctx context.Context, conversationID int64) (int, error) {
	pc, err := s.store.PushCheck(ctx, conversationID, checkMessages)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	claims, next := s.decide(pc, now)
	queued := 0
	if len(claims) > 0 {
		done, err := s.store.ClaimPushes(ctx, claims)
		if err != nil {
			return 0, err
		}
		for i, ok := range done {
			switch {
			case !ok:
				// The member's marks moved since the check: look again
				// at the next poll.
				if next == nil || next.After(now) {
					next = &now
				}
			case claims[i].Push != nil:
				queued++
			}
		}
	}
	return queued, s.store.FinishPushCheck(ctx, conversationID, pc.Conversation.LastSeq, next, now)
}

// decide applies the rule of who is notified (docs/protocol.md) to a
// conversation: a claim per member whose burst is due (with a push, or
// none), and the time of the oldest message still waiting for its delay
// (nil: none).
func (s *Service) decide(pc parley.PushCheck, now time.Time) ([]parley.PushClaim, *time.Time) {
	due := now.Add(-s.cfg.Delay)
	c := pc.Conversation
	var (
		claims []parley.PushClaim
		next   *time.Time
	)
	for _, m := range pc.Members {
		lo := max(m.DeliveredSeq, m.PushedSeq)
		var burst []parley.Message
		for _, msg := range pc.Messages {
			if msg.Seq > lo && msg.SenderID != m.UserID {
				burst = append(burst, msg)
			}
		}
		claim := parley.PushClaim{ConversationID: c.ID, UserID: m.UserID, FromPushed: m.PushedSeq,
			FromDelivered: m.DeliveredSeq, ToSeq: c.LastSeq}
		if len(burst) == 0 {
			claims = append(claims, claim) // system messages, own messages: nothing to tell
			continue
		}
		// Messages older than those read may be missing (checkMessages):
		// those are due.
		truncated := len(pc.Messages) == checkMessages && pc.Messages[0].Seq > lo+1
		if !truncated && burst[0].CreatedAt.After(due) {
			if next == nil || burst[0].CreatedAt.Before(*next) {
				t := burst[0].CreatedAt
				next = &t
			}
			continue
		}
		level := parley.EffectiveLevel(m.Settings.Level, c.Kind, c.MemberCount)
		if m.Settings.Muted(now) || level == parley.NotifyOff {
			claims = append(claims, claim)
			continue
		}
		mentioned := false
		var told []parley.Message
		for _, msg := range burst {
			mentions := slices.Contains(msg.Mentions, m.UserID)
			mentioned = mentioned || mentions
			if level == parley.NotifyAll || mentions {
				told = append(told, msg)
			}
		}
		if len(told) == 0 {
			claims = append(claims, claim)
			continue
		}
		p := messagePayload(c, m, told, mentioned)
		body, err := json.Marshal(p)
		if err == nil && len(body) > parley.PushPayloadMax {
			// Long names of many-byte characters: shorter still fits.
			p.Title, p.Body = truncate(p.Title, 40), truncate(p.Body, 60)
			body, err = json.Marshal(p)
		}
		if err != nil {
			claims = append(claims, claim)
			continue
		}
		urgency := parley.UrgencyNormal
		if c.Kind == parley.KindDirect || mentioned {
			urgency = parley.UrgencyHigh
		}
		claim.Push = &parley.PushNotice{Payload: body, Urgency: urgency, Topic: Tag(c.ID), TTL: MessageTTL,
			Since: told[0].CreatedAt, Due: now}
		claims = append(claims, claim)
	}
	return claims, next
}

// messagePayload is the notification of messages told to member m.
func messagePayload(c parley.Conversation, m parley.PushMember, told []parley.Message, mentioned bool) Payload {
	last := told[len(told)-1]
	p := Payload{Type: "message", ConversationID: c.ID, Seq: last.Seq, Tag: Tag(c.ID),
		URL: "/c/" + strconv.FormatInt(c.ID, 10), Count: len(told), Badge: m.Unread, Mention: mentioned,
		SenderID: last.SenderID, Timestamp: last.CreatedAt.UnixMilli()}
	oneSender := true
	for _, msg := range told {
		oneSender = oneSender && msg.SenderID == last.SenderID
	}
	sender := senderName(last)
	switch {
	case c.Kind == parley.KindDirect:
		p.Title = sender
	case oneSender:
		p.Title = sender + " in " + c.Name
	default:
		p.Title = c.Name
	}
	switch {
	case len(told) > 1:
		p.Body = fmt.Sprintf("%d new messages", len(told))
	case m.HideText:
		p.Body = "New message"
	default:
		p.Body = preview(last)
	}
	p.Title = truncate(p.Title, 120)
	return p
}

func senderName(m parley.Message) string {
	if m.Sender == nil {
		return "Someone"
	}
	if m.Sender.DisplayName != "" {
		return m.Sender.DisplayName
	}
	return m.Sender.Username
}

// preview is what a notification shows of a message: its text on one line,
// at most PreviewMax characters, or its first file.
func preview(m parley.Message) string {
	text := strings.Join(strings.Fields(m.Text), " ")
	if text == "" && len(m.Attachments) > 0 {
		text = "📎 " + m.Attachments[0].Name
	}
	if text == "" {
		text = "New message"
	}
	return truncate(text, PreviewMax)
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
