package http

import (
	"context"
	"net/http"
	"time"

	"parley"
	"parley/service"
)

// Search is what the search route needs of the application layer.
type Search interface {
	Search(ctx context.Context, userID int64, req service.SearchRequest) (service.SearchResult, error)
}

func (s *Server) handleSearch(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	q := r.URL.Query()
	req := service.SearchRequest{Query: q.Get("q"), Cursor: q.Get("cursor")}
	var limit int64
	var err error
	req.ConversationID, err = queryInt(r, "conversation_id")
	if err == nil {
		req.From, err = queryInt(r, "from")
	}
	if err == nil {
		limit, err = queryInt(r, "limit")
		req.Limit = int(limit)
		if err == nil && q.Has("limit") && (limit < 1 || limit > parley.SearchLimitMax) {
			err = parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.SearchLimitMax)
		}
	}
	if err == nil {
		req.After, err = queryTime(r, "after")
	}
	if err == nil {
		req.Before, err = queryTime(r, "before")
	}
	if err == nil {
		switch q.Get("has_attachment") {
		case "", "false", "0":
		case "true", "1":
			req.HasAttachment = true
		default:
			err = parley.FieldErrorf("has_attachment", "has_attachment must be true or false.")
		}
	}
	if err != nil {
		return 0, nil, err
	}
	res, err := s.svc.Search(r.Context(), u.ID, req)
	return http.StatusOK, res, err
}

// queryTime reads a time parameter: RFC 3339 (2026-12-06T08:00:00Z) or a
// date (2026-12-06, midnight UTC). Absent: the zero time.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, parley.FieldErrorf(name, "%s must be a date (2026-12-06) or an RFC 3339 time.", name)
}
