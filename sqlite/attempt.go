package sqlite

import (
	"context"
	"time"

	"parley"
)

// ReserveAttempt counts and records attempts in one write: the single
// writer runs one write at a time, so no two reservations interleave.
func (s *Store) ReserveAttempt(ctx context.Context, at time.Time, limits []parley.AttemptLimit) (int, error) {
	full := -1
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		full = -1
		for i, l := range limits {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE key = ? AND at >= ?`,
				l.Key, ts(l.Since)).Scan(&n); err != nil {
				return err
			}
			if n >= l.Max {
				full = i
				return nil
			}
		}
		for _, l := range limits {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, l.Key, ts(at)); err != nil {
				return err
			}
		}
		return nil
	})
	return full, dbErr(err)
}

// ForgetAttempt deletes one attempt of each key recorded at time at.
func (s *Store) ForgetAttempt(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE rowid =
				(SELECT rowid FROM login_failures WHERE key = ? AND at = ? LIMIT 1)`, k, ts(at)); err != nil {
				return err
			}
		}
		return nil
	})
}
