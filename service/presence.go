package service

import (
	"context"
	"time"

	"parley"
)

// SetLastSeen records when a user's last connection (on any node) closed.
func (s *Service) SetLastSeen(ctx context.Context, userID int64, at time.Time) error {
	return s.store.SetLastSeen(ctx, userID, at.UTC().Truncate(time.Microsecond))
}

// LastSeen returns when each of ids was last seen; users never seen (or
// unknown) are left out.
func (s *Service) LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(ids))
	for _, id := range ids {
		u, err := s.store.User(ctx, id)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if u.LastSeen != nil {
			out[id] = *u.LastSeen
		}
	}
	return out, nil
}
