package sqlite

import (
	"context"
	"time"

	"parley"
)

// PruneAttempts deletes up to limit attempts recorded before before.
func (s *Store) PruneAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.prune(ctx, `DELETE FROM login_failures WHERE rowid IN
		(SELECT rowid FROM login_failures WHERE at < ? LIMIT ?)`, before, limit)
}

// PruneSessions deletes up to limit sessions that expired before before.
func (s *Store) PruneSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.prune(ctx, `DELETE FROM sessions WHERE id IN
		(SELECT id FROM sessions WHERE expires_at < ? LIMIT ?)`, before, limit)
}

func (s *Store) prune(ctx context.Context, query string, before time.Time, limit int) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, query, ts(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), dbErr(err)
}

var _ parley.PruneStore = (*Store)(nil)
