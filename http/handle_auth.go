package http

import (
	"net/http"

	"parley"
)

func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.svc.Signup(r.Context(), req.Username, req.Email, req.Password)
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
	if err := decode(w, r, &req); err != nil {
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
		Secure:  r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" && s.opt.TrustProxy,
		Expires: sess.ExpiresAt,
	})
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "session_id": sess.ID, "user": u})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
	if err := s.svc.Logout(r.Context(), u.ID, sess.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) handleUpdateMe(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		DisplayName       *string `json:"display_name"`
		AcceptingMessages *bool   `json:"accepting_messages"`
	}
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.svc.UpdateMe(r.Context(), u.ID, parley.UserUpdate{DisplayName: req.DisplayName, AcceptingMessages: req.AcceptingMessages})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
	list, err := s.svc.Sessions(r.Context(), u.ID, sess.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.svc.RevokeSession(r.Context(), u.ID, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleLogoutOthers(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
	n, err := s.svc.LogoutOthers(r.Context(), u.ID, sess.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": n})
}

func (s *Server) handleSearchUsers(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.svc.SearchUsers(r.Context(), r.URL.Query().Get("prefix"), int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if users == nil {
		users = []parley.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, _ parley.User, _ parley.Session) {
	u, err := s.svc.UserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) handleFeatures(w http.ResponseWriter, r *http.Request) {
	f := map[string]any{"suggestions": s.opt.Suggest != nil, "calls": false, "push": false}
	for k, v := range s.opt.Features {
		f[k] = v
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request, u parley.User, sess parley.Session) {
	s.opt.Realtime.Serve(w, r, u, sess)
}
