package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

const sessionColumns = `id, user_id, token_hash, user_agent, ip, created_at, last_used, expires_at`

func scanSession(row pgx.Row) (parley.Session, error) {
	var s parley.Session
	if err := row.Scan(&s.ID, &s.UserID, &s.TokenHash, &s.UserAgent, &s.IP, &s.CreatedAt, &s.LastUsed, &s.ExpiresAt); err != nil {
		return parley.Session{}, err
	}
	s.CreatedAt, s.LastUsed, s.ExpiresAt = utc(s.CreatedAt), utc(s.LastUsed), utc(s.ExpiresAt)
	return s, nil
}

// CreateSession stores sess and sets its ID.
func (s *Store) CreateSession(ctx context.Context, sess *parley.Session) error {
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO sessions (user_id, token_hash, user_agent, ip, created_at, last_used, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id`,
		sess.UserID, sess.TokenHash, sess.UserAgent, sess.IP,
		utc(sess.CreatedAt), utc(sess.LastUsed), utc(sess.ExpiresAt),
	).Scan(&id)
	if err != nil {
		return mapError(err)
	}
	sess.ID = id
	return nil
}

// SessionByTokenHash returns the session with that token hash if it has not
// expired at now.
func (s *Store) SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (parley.Session, error) {
	sess, err := scanSession(s.pool.QueryRow(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1 AND expires_at > $2`,
		hash, utc(now)))
	return sess, mapError(err)
}

// TouchSession sets a session's last use and expiry.
func (s *Store) TouchSession(ctx context.Context, id int64, lastUsed, expiresAt time.Time) error {
	_, err := s.pool.Exec(ctx,
		`UPDATE sessions SET last_used = $2, expires_at = $3 WHERE id = $1`,
		id, utc(lastUsed), utc(expiresAt))
	return mapError(err)
}

// Sessions lists a user's unexpired sessions, newest use first.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]parley.Session, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND expires_at > $2
		ORDER BY last_used DESC, id DESC`,
		userID, utc(now))
	if err != nil {
		return nil, mapError(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Session, error) { return scanSession(row) })
	return list, mapError(err)
}

// DeleteSession deletes one of the user's sessions.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, sessionID, userID)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return parley.ErrNotFound
	}
	return nil
}

// DeleteOtherSessions deletes all of the user's sessions but keepID and
// returns the ids deleted, in ascending order.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID, keepID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `
		WITH d AS (DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id)
		SELECT id FROM d ORDER BY id`,
		userID, keepID)
	if err != nil {
		return nil, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, mapError(err)
}
