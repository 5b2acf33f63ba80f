package service

import (
	"context"
	"slices"

	"parley"
)

// ForwardResult is what a forward did in one target conversation: the
// message sent there (Created false for a resend's original), or why
// nothing was.
type ForwardResult struct {
	ConversationID int64
	Message        parley.Message
	Created        bool
	Err            error
}

// Forward sends a copy of message seq of a conversation to each of
// targets (1 to parley.ForwardTargetsMax distinct conversations), as
// userID: the same text and files, marked forwarded, and nothing else of
// the original (not where it came from, nor who wrote it). userID must be
// a member of the source and the message a text message not deleted, and
// userID a member of every target: else ErrNotFound and nothing is sent.
//
// Each copy is sent as SendMessage sends (the same checks, seq, event,
// push); what refuses a send to one target (a direct chat whose other
// person does not accept messages from userID) fails that target alone,
// in its ForwardResult. clientMsgID makes each copy idempotent in its
// target, as for a send: a resent forward returns the copies already sent.
//
// The files are the same blobs: each copy's attachments are new uploads
// of userID's (UploadStore.CopyAttachments, which counts them toward
// userID's quota), so each message's files go with that message alone.
func (s *Service) Forward(ctx context.Context, userID, conversationID, seq int64, clientMsgID string, targets []int64) ([]ForwardResult, error) {
	if err := parley.ValidateClientMsgID(clientMsgID); err != nil {
		return nil, err
	}
	if len(targets) == 0 || len(targets) > parley.ForwardTargetsMax {
		return nil, parley.FieldErrorf("conversation_ids", "Forward to 1 to %d conversations at once.", parley.ForwardTargetsMax)
	}
	for i, id := range targets {
		if slices.Contains(targets[:i], id) {
			return nil, parley.FieldErrorf("conversation_ids", "Each conversation may be named once.")
		}
	}
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return nil, err
	}
	if seq <= 0 {
		return nil, parley.ErrNotFound
	}
	m, err := s.store.Message(ctx, conversationID, seq)
	if err != nil {
		return nil, err
	}
	if m.Kind != parley.MessageText || m.DeletedAt != nil {
		return nil, parley.ErrNotFound
	}
	if len(m.Attachments) > 0 && s.files == nil {
		return nil, parley.Errorf(parley.EINVALID, "This server takes no attachments.")
	}
	for _, id := range targets {
		if _, err := s.member(ctx, id, userID); err != nil {
			return nil, err
		}
	}
	out := make([]ForwardResult, len(targets))
	for i, id := range targets {
		r := &out[i]
		r.ConversationID = id
		r.Message, r.Created, r.Err = s.forwardTo(ctx, userID, m, id, clientMsgID)
		if r.Err != nil && parley.ErrorCode(r.Err) == parley.EINTERNAL {
			s.log.Error("forward", "conversation", id, "err", r.Err)
		}
	}
	return out, nil
}

// forwardTo sends one copy of m to conversation target.
func (s *Service) forwardTo(ctx context.Context, userID int64, m parley.Message, target int64, clientMsgID string) (parley.Message, bool, error) {
	var ids []int64
	if len(m.Attachments) > 0 {
		var ups []parley.Upload
		err := s.files.retryBusy(ctx, func() (err error) {
			ups, err = s.store.CopyAttachments(ctx, m.ConversationID, m.Seq, userID, s.files.cfg.Quota, s.Now())
			return err
		})
		if err != nil {
			return parley.Message{}, false, err
		}
		for _, u := range ups {
			ids = append(ids, u.ID)
		}
	}
	fw, created, err := s.SendMessage(ctx, userID, Outgoing{ConversationID: target, ClientMsgID: clientMsgID,
		Text: m.Text, Attachments: ids, Forwarded: true})
	if !created && len(ids) > 0 {
		// A resend (which has its own), or refused: the copies are not
		// needed. Should deleting them fail, the orphan sweep takes them.
		for _, id := range ids {
			if err := s.store.DeleteUpload(context.WithoutCancel(ctx), userID, id); err != nil {
				s.log.Warn("forward: delete unused copy", "upload", id, "err", err)
			}
		}
		s.files.wake()
	}
	return fw, created, err
}
