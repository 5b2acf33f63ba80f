package sqlite

import (
	"context"
	"slices"
	"time"

	"parley"
)

const sessionCols = `id, user_id, token_hash, user_agent, ip, created_at, last_used, expires_at`

func scanSession(sc scanner) (parley.Session, error) {
	var (
		s                      parley.Session
		created, used, expires int64
	)
	err := sc.Scan(&s.ID, &s.UserID, &s.TokenHash, &s.UserAgent, &s.IP, &created, &used, &expires)
	s.CreatedAt, s.LastUsed, s.ExpiresAt = tm(created), tm(used), tm(expires)
	return s, err
}

// CreateSession stores sess and sets its ID.
func (s *Store) CreateSession(ctx context.Context, sess *parley.Session) error {
	var (
		id int64
		ns = *sess // the writer may still run after a canceled caller has returned
	)
	ns.TokenHash = slices.Clone(sess.TokenHash)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO sessions (user_id, token_hash, user_agent, ip, created_at, last_used, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			ns.UserID, ns.TokenHash, ns.UserAgent, ns.IP, ts(ns.CreatedAt), ts(ns.LastUsed), ts(ns.ExpiresAt),
		).Scan(&id)
	})
	if err != nil {
		return err
	}
	sess.ID = id
	return nil
}

// SessionByTokenHash returns the session with that token hash if it has not
// expired at now.
func (s *Store) SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (parley.Session, error) {
	sess, err := scanSession(s.rd.QueryRowContext(ctx, `
		SELECT `+sessionCols+` FROM sessions WHERE token_hash = ? AND expires_at > ?`, hash, ts(now)))
	return sess, dbErr(err)
}

// TouchSession sets a session's last use and expiry.
func (s *Store) TouchSession(ctx context.Context, id int64, lastUsed, expiresAt time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		return mustAffect(tx.ExecContext(ctx, `UPDATE sessions SET last_used = ?, expires_at = ? WHERE id = ?`,
			ts(lastUsed), ts(expiresAt), id))
	})
}

// Sessions lists a user's unexpired sessions, newest use first.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]parley.Session, error) {
	return collect(ctx, s.rd, scanSession, `
		SELECT `+sessionCols+` FROM sessions WHERE user_id = ? AND expires_at > ?
		ORDER BY last_used DESC, id DESC`, userID, ts(now))
}

// DeleteSession deletes one of the user's sessions.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID int64) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, sessionID, userID))
	})
}

// DeleteOtherSessions deletes all of the user's sessions but keepID and
// returns the ids deleted.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID, keepID int64) ([]int64, error) {
	var ids []int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		ids, err = collect(ctx, tx, scanID, `DELETE FROM sessions WHERE user_id = ? AND id <> ? RETURNING id`, userID, keepID)
		return err
	})
	return ids, err
}

func scanID(sc scanner) (int64, error) {
	var id int64
	err := sc.Scan(&id)
	return id, err
}
