package http

import (
	"net/http"

	"parley"
)

func (s *Server) handleConversations(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	list, err := s.svc.Conversations(r.Context(), u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []parley.ConversationSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": list})
}

func (s *Server) handleConversation(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.Conversation(r.Context(), u.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": c})
}

func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Name string `json:"name"`
		Code string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.CreateGroup(r.Context(), u.ID, req.Name, req.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"conversation": c})
}

func (s *Server) handleJoinGroup(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, joined, err := s.svc.JoinGroup(r.Context(), u.ID, req.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if joined {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"conversation": c})
}

func (s *Server) handleDirect(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Username string `json:"username"`
	}
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, created, err := s.svc.Direct(r.Context(), u.ID, req.Username)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"conversation": c})
}

func (s *Server) handleRename(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Name string `json:"name"`
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.Rename(r.Context(), u.ID, id, req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": c})
}

func (s *Server) handleSetCode(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Code string `json:"code"`
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.SetCode(r.Context(), u.ID, id, req.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": c})
}

func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.svc.Members(r.Context(), u.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": list})
}

func (s *Server) handleSetRole(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Role string `json:"role"`
	}
	id, err := pathID(r, "id")
	var target int64
	if err == nil {
		target, err = pathID(r, "user_id")
	}
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.SetRole(r.Context(), u.ID, id, target, req.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"member": m})
}

func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	var target int64
	if err == nil {
		target, err = pathID(r, "user_id")
	}
	if err == nil {
		err = s.svc.RemoveMember(r.Context(), u.ID, id, target)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.svc.Leave(r.Context(), u.ID, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
