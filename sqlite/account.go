package sqlite

import (
	"context"
	"time"

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

// DeleteUser deletes an account (see parley.AccountStore).
func (s *Store) DeleteUser(ctx context.Context, userID int64, retireUntil, now time.Time) ([]parley.Message, error) {
	var msgs []parley.Message
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		msgs = nil // a write may run again
		u, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Deleted {
			return parley.ErrNotFound
		}
		groups, err := collect(ctx, tx, scanID, `
			SELECT m.conversation_id FROM members m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.user_id = ? AND c.kind = 'group' ORDER BY m.conversation_id`, userID)
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
			`DELETE FROM sessions WHERE user_id = ?1`,
			`DELETE FROM push_subscriptions WHERE user_id = ?1`,
			`DELETE FROM blocks WHERE blocker_id = ?1 OR blocked_id = ?1`,
			// The direct chats' records of when their marks moved (the
			// groups' went with the memberships).
			`DELETE FROM mark_steps WHERE user_id = ?1 AND conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ?1)`,
		} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retired_usernames (username, until) VALUES (?, ?)
			ON CONFLICT (username) DO UPDATE SET until = max(until, excluded.until)`, u.Username, ts(retireUntil)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE users SET username = '~' || id, email = NULL, display_name = ?, password_hash = '',
				accepting_messages = 0, hide_notification_text = 0, avatar_key = NULL, last_seen = NULL, deleted_at = ?
			WHERE id = ?`, parley.DeletedName, ts(now), userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// Block records a block. The writer's cache of the blocker is dropped by
// the pre-update hook on blocks (sqlite/append.go).
func (s *Store) Block(ctx context.Context, blockerID, blockedID int64, now time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL)`, blockedID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return parley.ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (blocker_id, blocked_id) DO NOTHING`, blockerID, blockedID, ts(now))
		return err
	})
}

// Unblock lifts a block.
func (s *Store) Unblock(ctx context.Context, blockerID, blockedID int64) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blockerID, blockedID)
		return err
	})
}

// Blocks lists the people blockerID blocks.
func (s *Store) Blocks(ctx context.Context, blockerID int64) ([]parley.User, error) {
	return collect(ctx, s.rd, func(sc scanner) (parley.User, error) { return scanUser(sc) }, `
		SELECT `+userCols+` FROM users WHERE id IN (SELECT blocked_id FROM blocks WHERE blocker_id = ?)
		ORDER BY username`, blockerID)
}

// Blocked reports whether blockerID blocks blockedID.
func (s *Store) Blocked(ctx context.Context, blockerID, blockedID int64) (bool, error) {
	var b bool
	err := s.rd.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?)`,
		blockerID, blockedID).Scan(&b)
	return b, dbErr(err)
}

// PruneRetiredUsernames forgets usernames whose retirement ended.
func (s *Store) PruneRetiredUsernames(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.prune(ctx, `DELETE FROM retired_usernames WHERE username IN
		(SELECT username FROM retired_usernames WHERE until < ? LIMIT ?)`, before, limit)
}
