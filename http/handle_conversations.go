package http

import (
	"context"
	"net/http"

	"parley"
)

// Conversations is what the conversation routes need of the application
// layer (*service.Service).
type Conversations interface {
	Conversations(ctx context.Context, userID int64) ([]parley.ConversationSummary, error)
	Conversation(ctx context.Context, userID, id int64) (parley.ConversationSummary, error)
	CreateGroup(ctx context.Context, userID int64, name, code string) (parley.ConversationSummary, error)
	JoinGroup(ctx context.Context, userID int64, code, ip string) (parley.ConversationSummary, bool, error)
	Direct(ctx context.Context, userID int64, username string) (parley.ConversationSummary, bool, error)
	Rename(ctx context.Context, userID, id int64, name string) (parley.ConversationSummary, error)
	SetCode(ctx context.Context, userID, id int64, code string) (parley.ConversationSummary, error)
	Members(ctx context.Context, userID, id int64) ([]parley.Member, error)
	SetRole(ctx context.Context, userID, id, target int64, role string) (parley.Member, error)
	RemoveMember(ctx context.Context, userID, id, target int64) error
	AddMember(ctx context.Context, userID, id int64, username string) (parley.Member, bool, error)
	Leave(ctx context.Context, userID, id int64) error
	UpdateNotifySettings(ctx context.Context, userID, conversationID int64, level, mute *string) (parley.NotifySettings, error)
}

func (s *Server) handleConversations(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	list, err := s.svc.Conversations(r.Context(), u.ID)
	if list == nil {
		list = []parley.ConversationSummary{}
	}
	return http.StatusOK, map[string]any{"conversations": list}, err
}

func (s *Server) handleConversation(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	c, err := s.svc.Conversation(r.Context(), u.ID, id[0])
	return http.StatusOK, map[string]any{"conversation": c}, err
}

func (s *Server) handleCreateGroup(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Name string `json:"name"`
		Code string `json:"code"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, err := s.svc.CreateGroup(r.Context(), u.ID, req.Name, req.Code)
	return http.StatusCreated, map[string]any{"conversation": c}, err
}

func (s *Server) handleJoinGroup(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, joined, err := s.svc.JoinGroup(r.Context(), u.ID, req.Code, s.clientIP(r))
	return created(joined), map[string]any{"conversation": c}, err
}

func (s *Server) handleDirect(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Username string `json:"username"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, isNew, err := s.svc.Direct(r.Context(), u.ID, req.Username)
	return created(isNew), map[string]any{"conversation": c}, err
}

func (s *Server) handleRename(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Name string `json:"name"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	c, err := s.svc.Rename(r.Context(), u.ID, id[0], req.Name)
	return http.StatusOK, map[string]any{"conversation": c}, err
}

func (s *Server) handleSetCode(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Code string `json:"code"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	c, err := s.svc.SetCode(r.Context(), u.ID, id[0], req.Code)
	return http.StatusOK, map[string]any{"conversation": c}, err
}

func (s *Server) handleMembers(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	list, err := s.svc.Members(r.Context(), u.ID, id[0])
	return http.StatusOK, map[string]any{"members": list}, err
}

func (s *Server) handleAddMember(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Username string `json:"username"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	m, added, err := s.svc.AddMember(r.Context(), u.ID, id[0], req.Username)
	return created(added), map[string]any{"member": m}, err
}

func (s *Server) handleSetRole(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Role string `json:"role"`
	}
	id, err := ids(r, "id", "user_id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	m, err := s.svc.SetRole(r.Context(), u.ID, id[0], id[1], req.Role)
	return http.StatusOK, map[string]any{"member": m}, err
}

func (s *Server) handleRemoveMember(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id", "user_id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.svc.RemoveMember(r.Context(), u.ID, id[0], id[1])
}

func (s *Server) handleLeave(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.svc.Leave(r.Context(), u.ID, id[0])
}

func (s *Server) handleNotifySettings(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Level *string `json:"level"`
		Mute  *string `json:"mute"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	ns, err := s.svc.UpdateNotifySettings(r.Context(), u.ID, id[0], req.Level, req.Mute)
	return http.StatusOK, map[string]any{"notify": ns}, err
}
