package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley"
)

// SetPassword replaces the user's password hash and deletes their other
// sessions in one transaction; the ids come in ascending order.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string, keepSessionID int64) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, passwordHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.ErrNotFound
		}
		rows, err := tx.Query(ctx, `
			WITH d AS (DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id)
			SELECT id FROM d ORDER BY id`, userID, keepSessionID)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, nil
}

var _ parley.AccountStore = (*Store)(nil)
