package http

import (
	"context"
	"net/http"

	"parley"
	"parley/openapi"
)

// Accounts is what the account routes need of the application layer
// (*service.Service).
type Accounts interface {
	Signup(ctx context.Context, username, email, password, invite, ip string) (parley.User, error)
	Login(ctx context.Context, login, password, userAgent, ip string) (string, parley.Session, parley.User, error)
	Logout(ctx context.Context, userID, sessionID int64) error
	UpdateMe(ctx context.Context, userID int64, upd parley.UserUpdate) (parley.User, error)
	Sessions(ctx context.Context, userID, currentID int64) ([]parley.Session, error)
	RevokeSession(ctx context.Context, userID, sessionID int64) error
	LogoutOthers(ctx context.Context, userID, keepSessionID int64) (int, error)
	SearchUsers(ctx context.Context, prefix string, limit int) ([]parley.User, error)
	UserByUsername(ctx context.Context, viewerID int64, username string) (parley.User, error)
}

func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
		Invite   string `json:"invite"`
	}
	err := decode(r, &req)
	var u parley.User
	if err == nil {
		u, err = s.svc.Signup(r.Context(), req.Username, req.Email, req.Password, req.Invite, s.clientIP(r))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": u})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	tok, sess, u, err := s.svc.Login(r.Context(), req.Login, req.Password, r.UserAgent(), s.clientIP(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure:  s.proxies.https(r),
		Expires: sess.ExpiresAt,
	})
	http.SetCookie(w, &http.Cookie{Name: SignedInCookieName, Value: "1", Path: "/", SameSite: http.SameSiteLaxMode, Secure: s.proxies.https(r), MaxAge: signedInMaxAge})
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "session_id": sess.ID, "user": u})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
	if err := s.svc.Logout(r.Context(), u.ID, sess.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: SignedInCookieName, Value: "", Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	return http.StatusOK, map[string]any{"user": u}, nil
}

func (s *Server) handleUpdateMe(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		DisplayName          *string `json:"display_name"`
		AcceptingMessages    *bool   `json:"accepting_messages"`
		HideNotificationText *bool   `json:"hide_notification_text"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	u, err := s.svc.UpdateMe(r.Context(), u.ID, parley.UserUpdate{DisplayName: req.DisplayName,
		AcceptingMessages: req.AcceptingMessages, HideNotificationText: req.HideNotificationText})
	return http.StatusOK, map[string]any{"user": u}, err
}

func (s *Server) handleSessions(r *http.Request, u parley.User, sess parley.Session) (int, any, error) {
	list, err := s.svc.Sessions(r.Context(), u.ID, sess.ID)
	return http.StatusOK, map[string]any{"sessions": list}, err
}

func (s *Server) handleDeleteSession(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.svc.RevokeSession(r.Context(), u.ID, id[0])
}

func (s *Server) handleLogoutOthers(r *http.Request, u parley.User, sess parley.Session) (int, any, error) {
	n, err := s.svc.LogoutOthers(r.Context(), u.ID, sess.ID)
	return http.StatusOK, map[string]any{"revoked": n}, err
}

func (s *Server) handleSearchUsers(r *http.Request, _ parley.User, _ parley.Session) (int, any, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	users, err := s.svc.SearchUsers(r.Context(), r.URL.Query().Get("prefix"), int(limit))
	if users == nil {
		users = []parley.User{}
	}
	return http.StatusOK, map[string]any{"users": users}, err
}

func (s *Server) handleUser(r *http.Request, me parley.User, _ parley.Session) (int, any, error) {
	u, err := s.svc.UserByUsername(r.Context(), me.ID, r.PathValue("username"))
	return http.StatusOK, map[string]any{"user": u}, err
}

func (s *Server) handleFeatures(w http.ResponseWriter, r *http.Request) {
	f := map[string]any{"suggestions": s.opt.Suggest != nil, "calls": false, "push": s.opt.Push != nil && s.opt.Push.PublicKey() != "",
		"signup": s.svc.SignupPolicy(), "invites_by_members": s.svc.InvitesByMembers()}
	if s.opt.Files != nil {
		f["files"] = s.opt.Files.Limits()
	}
	for k, v := range s.opt.Features {
		f[k] = v
	}
	writeJSON(w, http.StatusOK, f)
}

// handleOpenAPI serves the API's OpenAPI 3.1 description.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapi.JSON)
}

func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
	if err := s.opt.Realtime.Serve(w, r, u, sess); err != nil {
		s.writeError(w, r, err)
	}
}
