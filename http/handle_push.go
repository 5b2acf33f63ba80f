package http

import (
	"context"
	"net/http"

	"parley"
)

// Push is what the Web Push routes need (*push.Service).
type Push interface {
	// PublicKey is the VAPID public key (applicationServerKey).
	PublicKey() string
	Subscribe(ctx context.Context, userID int64, endpoint, p256dh, auth, label string) (parley.PushSubscription, bool, error)
	Subscriptions(ctx context.Context, userID int64) ([]parley.PushSubscription, error)
	Unsubscribe(ctx context.Context, userID, id int64) error
}

func (s *Server) handlePushKey(r *http.Request, _ parley.User, _ parley.Session) (int, any, error) {
	return http.StatusOK, map[string]any{"public_key": s.opt.Push.PublicKey()}, nil
}

func (s *Server) handleSubscribe(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	// The body is PushSubscription.toJSON() plus a label.
	var req struct {
		Endpoint       string `json:"endpoint"`
		ExpirationTime *int64 `json:"expirationTime"`
		Keys           struct {
			P256dh string `json:"p256dh"`
			Auth   string `json:"auth"`
		} `json:"keys"`
		Label string `json:"label"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	sub, created, err := s.opt.Push.Subscribe(r.Context(), u.ID, req.Endpoint, req.Keys.P256dh, req.Keys.Auth, req.Label)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return status, map[string]any{"subscription": sub}, err
}

func (s *Server) handlePushSubscriptions(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	subs, err := s.opt.Push.Subscriptions(r.Context(), u.ID)
	if subs == nil {
		subs = []parley.PushSubscription{}
	}
	return http.StatusOK, map[string]any{"subscriptions": subs}, err
}

func (s *Server) handleUnsubscribe(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.opt.Push.Unsubscribe(r.Context(), u.ID, id[0])
}
