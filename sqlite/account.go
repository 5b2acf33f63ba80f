package sqlite

import (
	"context"

	"parley"
)

// SetPassword replaces the user's password hash and deletes their other
// sessions in one transaction.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string, keepSessionID int64) ([]int64, error) {
	var ids []int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if err := mustAffect(tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)); err != nil {
			return err
		}
		ids, err = collect(ctx, tx, scanID, `DELETE FROM sessions WHERE user_id = ? AND id <> ? RETURNING id`, userID, keepSessionID)
		return err
	})
	if ids == nil {
		ids = []int64{}
	}
	return ids, err
}

var _ parley.AccountStore = (*Store)(nil)
