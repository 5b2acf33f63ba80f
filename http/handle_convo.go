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
	Pin(ctx context.Context, userID, conversationID, seq int64, on bool) ([]parley.Pin, bool, error)
	Pins(ctx context.Context, userID, conversationID int64) ([]parley.Pin, error)
	SetChatList(ctx context.Context, userID, conversationID int64, upd parley.ChatListUpdate) (parley.ChatListEntry, error)
	ChatList(ctx context.Context, userID int64) ([]parley.ChatListEntry, error)
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

func (s *Server) handlePins(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	pins, err := s.svc.Pins(r.Context(), u.ID, id[0])
	return http.StatusOK, map[string]any{"pins": pins}, err
}

// handlePin pins (PUT) or unpins (DELETE) a message.
func (s *Server) handlePin(on bool) apiFunc {
	return func(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
		id, err := ids(r, "id", "seq")
		if err != nil {
			return 0, nil, err
		}
		pins, changed, err := s.svc.Pin(r.Context(), u.ID, id[0], id[1], on)
		return http.StatusOK, map[string]any{"pins": pins, "changed": changed}, err
	}
}

func (s *Server) handleSetChatList(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	var req struct {
		Pinned       *bool `json:"pinned"`
		Archived     *bool `json:"archived"`
		MarkedUnread *bool `json:"marked_unread"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		return 0, nil, err
	}
	e, err := s.svc.SetChatList(r.Context(), u.ID, id[0], parley.ChatListUpdate{Pinned: req.Pinned, Archived: req.Archived, MarkedUnread: req.MarkedUnread})
	return http.StatusOK, map[string]any{"entry": e}, err
}

func (s *Server) handleChatList(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	list, err := s.svc.ChatList(r.Context(), u.ID)
	return http.StatusOK, map[string]any{"chat_list": list}, err
}
