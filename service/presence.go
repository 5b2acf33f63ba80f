package service

import (
	"context"
	"time"
)

// SetLastSeen records when a user's last connection (on any node) closed.
func (s *Service) SetLastSeen(ctx context.Context, userID int64, at time.Time) error {
	return s.store.SetLastSeen(ctx, userID, at.UTC().Truncate(time.Microsecond))
}

// LastSeen returns when each of ids was last seen, in one query; users
// never seen (or unknown) are left out.
func (s *Service) LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	return s.store.LastSeen(ctx, ids)
}
