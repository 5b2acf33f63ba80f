package http

import (
	"context"
	"net/http"

	"parley"
	"parley/service"
)

// Messages is what the message routes (and suggestions, which read
// history) need of the application layer (*service.Service).
type Messages interface {
	SendMessage(ctx context.Context, userID int64, o service.Outgoing) (parley.Message, bool, error)
	History(ctx context.Context, userID, conversationID int64, q parley.MessageQuery) ([]parley.Message, bool, error)
	HistoryAround(ctx context.Context, userID, conversationID, seq int64, limit int) ([]parley.Message, bool, bool, error)
	Edit(ctx context.Context, userID, conversationID, seq int64, text string) (parley.Message, error)
	Delete(ctx context.Context, userID, conversationID, seq int64) (parley.Message, error)
	Receipt(ctx context.Context, userID, conversationID, delivered, read int64) (parley.Member, error)
	Forward(ctx context.Context, userID, conversationID, seq int64, clientMsgID string, targets []int64) ([]service.ForwardResult, error)
	Info(ctx context.Context, userID, conversationID, seq int64) (service.MessageInfo, error)
}

func (s *Server) handleSend(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		ClientMsgID string  `json:"client_msg_id"`
		Text        string  `json:"text"`
		Attachments []int64 `json:"attachments"`
		ReplyTo     int64   `json:"reply_to"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	m, isNew, err := s.svc.SendMessage(r.Context(), u.ID, service.Outgoing{ConversationID: id[0], ClientMsgID: req.ClientMsgID,
		Text: req.Text, Attachments: req.Attachments, ReplyTo: req.ReplyTo})
	return created(isNew), map[string]any{"message": m}, err
}

// forwardResult is one target's part of a forward's answer: the message
// sent there, or the error that refused it.
type forwardResult struct {
	ConversationID int64             `json:"conversation_id"`
	Message        *parley.Message   `json:"message,omitempty"`
	Created        bool              `json:"created"`
	Error          *parley.ErrorBody `json:"error,omitempty"`
}

func (s *Server) handleForward(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		ClientMsgID     string  `json:"client_msg_id"`
		ConversationIDs []int64 `json:"conversation_ids"`
	}
	id, err := ids(r, "id", "seq")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	res, err := s.svc.Forward(r.Context(), u.ID, id[0], id[1], req.ClientMsgID, req.ConversationIDs)
	if err != nil {
		return 0, nil, err
	}
	out := make([]forwardResult, len(res))
	anyNew := false
	for i, fr := range res {
		out[i] = forwardResult{ConversationID: fr.ConversationID, Created: fr.Created}
		if fr.Err != nil {
			out[i].Error = new(parley.BodyOf(fr.Err))
		} else {
			out[i].Message = &fr.Message
		}
		anyNew = anyNew || fr.Created
	}
	return created(anyNew), map[string]any{"results": out}, nil
}

func (s *Server) handleHistory(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	var q parley.MessageQuery
	var limit int64
	if err == nil {
		q.AfterSeq, err = queryInt(r, "after_seq")
	}
	if err == nil {
		q.BeforeSeq, err = queryInt(r, "before_seq")
	}
	if err == nil {
		q.AroundSeq, err = queryInt(r, "around_seq")
	}
	if err == nil {
		limit, err = queryInt(r, "limit")
		if err == nil && r.URL.Query().Has("limit") && (limit < 1 || limit > parley.PageSizeMax) {
			err = parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.PageSizeMax)
		}
		q.Limit = int(limit)
	}
	if err == nil && r.URL.Query().Has("around_seq") && (q.AfterSeq != 0 || q.BeforeSeq != 0) {
		err = parley.FieldErrorf("around_seq", "around_seq goes without after_seq and before_seq.")
	}
	if err != nil {
		return 0, nil, err
	}
	if r.URL.Query().Has("around_seq") {
		msgs, before, after, err := s.svc.HistoryAround(r.Context(), u.ID, id[0], q.AroundSeq, q.Limit)
		if msgs == nil {
			msgs = []parley.Message{}
		}
		return http.StatusOK, map[string]any{"messages": msgs, "has_more_before": before, "has_more_after": after}, err
	}
	msgs, more, err := s.svc.History(r.Context(), u.ID, id[0], q)
	if msgs == nil {
		msgs = []parley.Message{}
	}
	return http.StatusOK, map[string]any{"messages": msgs, "has_more": more}, err
}

func (s *Server) handleEdit(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Text string `json:"text"`
	}
	id, err := ids(r, "id", "seq")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	m, err := s.svc.Edit(r.Context(), u.ID, id[0], id[1], req.Text)
	return http.StatusOK, map[string]any{"message": m}, err
}

func (s *Server) handleDelete(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id", "seq")
	if err != nil {
		return 0, nil, err
	}
	m, err := s.svc.Delete(r.Context(), u.ID, id[0], id[1])
	return http.StatusOK, map[string]any{"message": m}, err
}

func (s *Server) handleRead(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Seq int64 `json:"seq"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil && req.Seq < 0 {
		err = parley.FieldErrorf("seq", "seq must not be negative.")
	}
	if err != nil {
		return 0, nil, err
	}
	m, err := s.svc.Receipt(r.Context(), u.ID, id[0], req.Seq, req.Seq)
	return http.StatusOK, map[string]any{"delivered_seq": m.DeliveredSeq, "read_seq": m.ReadSeq}, err
}

func (s *Server) handleMessageInfo(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id", "seq")
	if err != nil {
		return 0, nil, err
	}
	info, err := s.svc.Info(r.Context(), u.ID, id[0], id[1])
	return http.StatusOK, info, err
}
