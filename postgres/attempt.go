package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

// attemptLockClass is the first key of the advisory locks that serialize
// reservations of one attempt key (the second is a hash of the key).
const attemptLockClass = 0x7061

// ReserveAttempt locks each key (a transaction-scoped advisory lock, taken
// in key order so two reservations never wait for each other in a cycle),
// counts, and records.
func (s *Store) ReserveAttempt(ctx context.Context, at time.Time, limits []parley.AttemptLimit) (int, error) {
	keys := make([]string, 0, len(limits))
	for _, l := range limits {
		keys = append(keys, l.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	full := -1
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		full = -1
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, attemptLockClass, k); err != nil {
				return err
			}
		}
		for i, l := range limits {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM login_failures WHERE key = $1 AND failed_at >= $2`,
				l.Key, utc(l.Since)).Scan(&n); err != nil {
				return err
			}
			if n >= l.Max {
				full = i
				return nil
			}
		}
		all := make([]string, 0, len(limits))
		for _, l := range limits {
			all = append(all, l.Key)
		}
		_, err := tx.Exec(ctx, `INSERT INTO login_failures (key, failed_at) SELECT k, $2 FROM unnest($1::text[]) AS k`, all, utc(at))
		return err
	})
	return full, err
}

// ForgetAttempt deletes one attempt of each key recorded at time at.
func (s *Store) ForgetAttempt(ctx context.Context, keys []string, at time.Time) error {
	for _, k := range keys {
		_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE ctid =
			(SELECT ctid FROM login_failures WHERE key = $1 AND failed_at = $2 LIMIT 1)`, k, utc(at))
		if err != nil {
			return mapError(err)
		}
	}
	return nil
}
