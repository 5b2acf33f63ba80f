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
			// The direct chats' records of when their marks moved (the
			// groups' went with the memberships).
			`DELETE FROM mark_steps WHERE user_id = $1 AND conversation_id IN (SELECT conversation_id FROM members WHERE user_id = $1)`,
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

// Block records a block; the next append sees it (appendSQL reads blocks
// in its own statement).
func (s *Store) Block(ctx context.Context, blockerID, blockedID int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO blocks (blocker_id, blocked_id, created_at)
		SELECT $1, id, $3 FROM users WHERE id = $2 AND deleted_at IS NULL
		ON CONFLICT (blocker_id, blocked_id) DO NOTHING`, blockerID, blockedID, utc(now))
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM users WHERE id = $1 AND deleted_at IS NULL)`, blockedID).Scan(&exists); err != nil {
			return mapError(err)
		}
		if !exists {
			return parley.ErrNotFound
		}
	}
	return nil
}

// Unblock lifts a block.
func (s *Store) Unblock(ctx context.Context, blockerID, blockedID int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blockerID, blockedID)
	return mapError(err)
}

// Blocks lists the people blockerID blocks.
func (s *Store) Blocks(ctx context.Context, blockerID int64) ([]parley.User, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+userColumns+` FROM users WHERE id IN (SELECT blocked_id FROM blocks WHERE blocker_id = $1)
		ORDER BY lower(username)`, blockerID)
	if err != nil {
		return nil, mapError(err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.User, error) { return scanUser(row) })
	if err != nil {
		return nil, mapError(err)
	}
	return users, nil
}

// Blocked reports whether blockerID blocks blockedID.
func (s *Store) Blocked(ctx context.Context, blockerID, blockedID int64) (bool, error) {
	var b bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)`,
		blockerID, blockedID).Scan(&b)
	return b, mapError(err)
}

// PruneRetiredUsernames forgets usernames whose retirement ended.
func (s *Store) PruneRetiredUsernames(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.prune(ctx, `DELETE FROM retired_usernames WHERE until < $1 AND lower(username) IN (
		SELECT lower(username) FROM retired_usernames WHERE until < $1 LIMIT $2)`, before, limit)
}
