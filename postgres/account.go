package postgres

import (
	"context"
	"time"

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

// DeleteUser deletes an account (see parley.AccountStore). Groups are left
// in ascending id order, the order in which their locks are taken.
func (s *Store) DeleteUser(ctx context.Context, userID int64, retireUntil, now time.Time) ([]parley.Message, error) {
	var msgs []parley.Message
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		msgs = nil
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, userID))
		if err != nil {
			return err
		}
		if u.Deleted {
			return parley.ErrNotFound
		}
		rows, err := tx.Query(ctx, `
			SELECT m.conversation_id FROM members m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.user_id = $1 AND c.kind = 'group' ORDER BY m.conversation_id`, userID)
		if err != nil {
			return err
		}
		groups, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range groups {
			m, err := removeMember(ctx, tx, id, userID, userID, now)
			if err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		if err := swapBlob(ctx, tx, u.AvatarKey, "", 0, now); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM sessions WHERE user_id = $1`,
			`DELETE FROM push_subscriptions WHERE user_id = $1`,
			`DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO retired_usernames (username, until) VALUES ($1, $2)
			ON CONFLICT (lower(username)) DO UPDATE SET until = greatest(retired_usernames.until, excluded.until)`,
			u.Username, utc(retireUntil)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE users SET username = '~' || id, email = '', display_name = $2, password_hash = '',
				accepting_messages = false, hide_notification_text = false, avatar_key = NULL, last_seen = NULL, deleted_at = $3
			WHERE id = $1`, userID, parley.DeletedName, utc(now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return msgs, nil
}
