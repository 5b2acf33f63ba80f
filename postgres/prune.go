package postgres

import (
	"context"
	"time"

	"parley"
)

// PruneAttempts deletes up to limit attempts recorded before before.
// Attempts have no key of their own: rows are picked by ctid, and the age
// is checked again on the row deleted.
func (s *Store) PruneAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.prune(ctx, `DELETE FROM login_failures WHERE failed_at < $1 AND ctid = ANY (ARRAY(
		SELECT ctid FROM login_failures WHERE failed_at < $1 LIMIT $2))`, before, limit)
}

// PruneSessions deletes up to limit sessions that expired before before.
func (s *Store) PruneSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.prune(ctx, `DELETE FROM sessions WHERE expires_at < $1 AND id IN (
		SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)`, before, limit)
}

// prune runs one DELETE. Nodes pruning at once may pick the same rows: a
// row another transaction deleted first is skipped, so each goes once.
func (s *Store) prune(ctx context.Context, query string, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, query, utc(before), limit)
	if err != nil {
		return 0, mapError(err)
	}
	return int(tag.RowsAffected()), nil
}

var _ parley.PruneStore = (*Store)(nil)
