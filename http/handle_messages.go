package http

import (
	"net/http"

	"parley"
)

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		ClientMsgID string `json:"client_msg_id"`
		Text        string `json:"text"`
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, created, err := s.svc.Send(r.Context(), u.ID, id, req.ClientMsgID, req.Text)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"message": m})
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	var q parley.MessageQuery
	var limit int64
	if err == nil {
		q.AfterSeq, err = queryInt(r, "after_seq")
	}
	if err == nil {
		q.BeforeSeq, err = queryInt(r, "before_seq")
	}
	if err == nil {
		limit, err = queryInt(r, "limit")
		if err == nil && (r.URL.Query().Has("limit") && (limit < 1 || limit > parley.PageSizeMax)) {
			err = parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.PageSizeMax)
		}
		q.Limit = int(limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msgs, more, err := s.svc.History(r.Context(), u.ID, id, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if msgs == nil {
		msgs = []parley.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "has_more": more})
}

func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Text string `json:"text"`
	}
	id, err := pathID(r, "id")
	var seq int64
	if err == nil {
		seq, err = pathID(r, "seq")
	}
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.Edit(r.Context(), u.ID, id, seq, req.Text)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": m})
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	var seq int64
	if err == nil {
		seq, err = pathID(r, "seq")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.Delete(r.Context(), u.ID, id, seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": m})
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Seq int64 `json:"seq"`
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = decode(w, r, &req)
	}
	if err == nil && req.Seq < 0 {
		err = parley.FieldErrorf("seq", "seq must not be negative.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.Receipt(r.Context(), u.ID, id, req.Seq, req.Seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"delivered_seq": m.DeliveredSeq, "read_seq": m.ReadSeq})
}
