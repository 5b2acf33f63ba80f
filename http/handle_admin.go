package http

import (
	"context"
	"net/http"
	"time"

	"parley"
)

// Admin is what the instance administration routes need of the
// application layer (*service.Service). Each method checks that the actor
// may do it.
type Admin interface {
	SignupPolicy() string
	InvitesByMembers() bool
	AdminUsers(ctx context.Context, actor parley.User, prefix string, afterID int64, limit int) ([]parley.User, error)
	CreateAccount(ctx context.Context, actor parley.User, username, email, password string, admin bool) (parley.User, string, error)
	SetAdmin(ctx context.Context, actor parley.User, userID int64, admin bool) (parley.User, error)
	SetDisabled(ctx context.Context, actor parley.User, userID int64, disabled bool) (parley.User, error)
	AdminDeleteAccount(ctx context.Context, actor parley.User, userID int64) error
	ResetLink(ctx context.Context, actor parley.User, userID int64) (string, time.Time, error)
	ResetPassword(ctx context.Context, token, password, ip string) (parley.User, error)
	CreateInvitation(ctx context.Context, actor parley.User, maxUses int, ttl time.Duration) (parley.Invitation, error)
	Invitations(ctx context.Context, actor parley.User) ([]parley.Invitation, error)
	RevokeInvitation(ctx context.Context, actor parley.User, id int64) (parley.Invitation, error)
	Stats(ctx context.Context, actor parley.User) (parley.InstanceStats, error)
	ReportMessage(ctx context.Context, userID, conversationID, seq int64, reason string) (parley.Report, bool, error)
	Reports(ctx context.Context, actor parley.User, open bool) ([]parley.Report, error)
	ResolveReport(ctx context.Context, actor parley.User, id int64, action string) (parley.Report, error)
}

// resetPath is the web app's page that sets a password with a reset
// link's token.
const resetPath = "/reset-password?token="

func (s *Server) handleAdminUsers(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	after, err := queryInt(r, "after_id")
	if err != nil {
		return 0, nil, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	users, err := s.svc.AdminUsers(r.Context(), u, r.URL.Query().Get("prefix"), after, int(limit))
	return http.StatusOK, map[string]any{"users": users}, err
}

func (s *Server) handleAdminCreateUser(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
		Admin    bool   `json:"admin"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	nu, token, err := s.svc.CreateAccount(r.Context(), u, req.Username, req.Email, req.Password, req.Admin)
	if err != nil {
		return 0, nil, err
	}
	body := map[string]any{"user": nu}
	if token != "" {
		body["reset_path"] = resetPath + token
	}
	return http.StatusCreated, body, nil
}

func (s *Server) handleAdminUpdateUser(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Admin    *bool `json:"admin"`
		Disabled *bool `json:"disabled"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Admin == nil && req.Disabled == nil {
		return 0, nil, parley.Errorf(parley.EINVALID, "Give admin or disabled.")
	}
	var nu parley.User
	if req.Admin != nil {
		if nu, err = s.svc.SetAdmin(r.Context(), u, id[0], *req.Admin); err != nil {
			return 0, nil, err
		}
	}
	if req.Disabled != nil {
		if nu, err = s.svc.SetDisabled(r.Context(), u, id[0], *req.Disabled); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, map[string]any{"user": nu}, nil
}

func (s *Server) handleAdminDeleteUser(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.svc.AdminDeleteAccount(r.Context(), u, id[0])
}

func (s *Server) handleAdminResetLink(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	token, exp, err := s.svc.ResetLink(r.Context(), u, id[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"reset_path": resetPath + token, "expires_at": exp}, nil
}

func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	err := decode(r, &req)
	if err == nil {
		_, err = s.svc.ResetPassword(r.Context(), req.Token, req.Password, s.clientIP(r))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAdminStats(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	st, err := s.svc.Stats(r.Context(), u)
	if err != nil {
		return 0, nil, err
	}
	var conns, online int
	if s.opt.Live != nil {
		conns, online = s.opt.Live()
	}
	return http.StatusOK, map[string]any{"stats": st, "connections": conns, "online_users": online,
		"signup": s.svc.SignupPolicy(), "invites_by_members": s.svc.InvitesByMembers()}, nil
}

func (s *Server) handleInvitations(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	list, err := s.svc.Invitations(r.Context(), u)
	return http.StatusOK, map[string]any{"invitations": list}, err
}

func (s *Server) handleCreateInvitation(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		MaxUses        int `json:"max_uses"`
		ExpiresInHours int `json:"expires_in_hours"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.ExpiresInHours < 0 || req.ExpiresInHours > 100_000 {
		return 0, nil, parley.FieldErrorf("expires_in_hours", "An invitation lasts 1 hour to %d days.", int(parley.InvitationTTLMax.Hours()/24))
	}
	inv, err := s.svc.CreateInvitation(r.Context(), u, req.MaxUses, time.Duration(req.ExpiresInHours)*time.Hour)
	return http.StatusCreated, map[string]any{"invitation": inv}, err
}

func (s *Server) handleRevokeInvitation(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	inv, err := s.svc.RevokeInvitation(r.Context(), u, id[0])
	return http.StatusOK, map[string]any{"invitation": inv}, err
}

func (s *Server) handleReportMessage(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id", "seq")
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	rep, isNew, err := s.svc.ReportMessage(r.Context(), u.ID, id[0], id[1], req.Reason)
	if err != nil {
		return 0, nil, err
	}
	// The reporter sees their report, not who else reported.
	return created(isNew), map[string]any{"report": map[string]any{"id": rep.ID, "conversation_id": rep.ConversationID,
		"seq": rep.Seq, "reason": rep.Reason, "created_at": rep.CreatedAt}}, nil
}

func (s *Server) handleReports(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	open := true
	switch r.URL.Query().Get("status") {
	case "", "open":
	case "resolved":
		open = false
	default:
		return 0, nil, parley.FieldErrorf("status", "status must be open or resolved.")
	}
	list, err := s.svc.Reports(r.Context(), u, open)
	return http.StatusOK, map[string]any{"reports": list}, err
}

func (s *Server) handleResolveReport(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Action string `json:"action"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	rep, err := s.svc.ResolveReport(r.Context(), u, id[0], req.Action)
	return http.StatusOK, map[string]any{"report": rep}, err
}
