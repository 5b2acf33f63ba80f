package http

import (
	"context"
	"net/http"

	"parley"
)

// Convo is what the routes of replies' neighbours need: reactions, pins,
// message info and forwarding (docs/protocol.md).
type Convo interface {
	React(ctx context.Context, userID, conversationID, seq int64, emoji string, on bool) (parley.Message, bool, error)
}

// errOn refuses a reaction request without its on field.
var errOn = parley.FieldErrorf("on", "on is true to add the reaction, false to take it back.")

func (s *Server) handleReact(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Emoji string `json:"emoji"`
		On    *bool  `json:"on"`
	}
	id, err := ids(r, "id", "seq")
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil && req.On == nil {
		err = errOn
	}
	if err != nil {
		return 0, nil, err
	}
	m, changed, err := s.svc.React(r.Context(), u.ID, id[0], id[1], req.Emoji, *req.On)
	return http.StatusOK, map[string]any{"message": m, "changed": changed}, err
}
