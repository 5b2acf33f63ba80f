package http

import (
	"context"
	"net/http"

	"parley"
)

// Account is what the routes of a person's own account need of the
// application layer (*service.Service): password, blocks, export and
// deletion.
type Account interface {
	ChangePassword(ctx context.Context, u parley.User, sessionID int64, current, next string) (int, error)
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
