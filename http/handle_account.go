package http

import (
	"context"
	"io"
	"net/http"

	"parley"
)

// Account is what the routes of a person's own account need of the
// application layer (*service.Service): password, blocks, export and
// deletion.
type Account interface {
	ChangePassword(ctx context.Context, u parley.User, sessionID int64, current, next string) (int, error)
	DeleteAccount(ctx context.Context, u parley.User, password string) error
	Block(ctx context.Context, userID int64, username string) (parley.User, error)
	Unblock(ctx context.Context, userID, blockedID int64) error
	Blocks(ctx context.Context, userID int64) ([]parley.User, error)
	Export(ctx context.Context, u parley.User, open func() io.Writer) error
}

func (s *Server) handleChangePassword(r *http.Request, u parley.User, sess parley.Session) (int, any, error) {
	var req struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	n, err := s.svc.ChangePassword(r.Context(), u, sess.ID, req.CurrentPassword, req.NewPassword)
	return http.StatusOK, map[string]any{"revoked": n}, err
}

func (s *Server) handleDeleteAccount(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	var req struct {
		Password string `json:"password"`
	}
	err := decode(r, &req)
	if err == nil {
		err = s.svc.DeleteAccount(r.Context(), u, req.Password)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: SignedInCookieName, Value: "", Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleBlocks(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	list, err := s.svc.Blocks(r.Context(), u.ID)
	return http.StatusOK, map[string]any{"users": list}, err
}

func (s *Server) handleBlock(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Username string `json:"username"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	blocked, err := s.svc.Block(r.Context(), u.ID, req.Username)
	return http.StatusOK, map[string]any{"user": blocked}, err
}

func (s *Server) handleUnblock(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "user_id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.svc.Unblock(r.Context(), u.ID, id[0])
}

// handleExport streams the user's data as a zip (service.Export).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	started := false
	err := s.svc.Export(r.Context(), u, func() io.Writer {
		started = true
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="parley-`+u.Username+`.zip"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return w
	})
	if err == nil {
		return
	}
	if !started {
		s.writeError(w, r, err)
		return
	}
	// Too late for an error answer: the zip stays unfinished.
	if r.Context().Err() == nil {
		s.log.Error("export", "user", u.ID, "err", err)
	}
	panic(http.ErrAbortHandler)
}
