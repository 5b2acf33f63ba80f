package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

const userColumns = `id, username, email, display_name, accepting_messages, created_at, last_seen, hide_notification_text, coalesce(avatar_key, ''), role, disabled_at`

func scanUser(row pgx.Row, extra ...any) (parley.User, error) {
	var u parley.User
	dest := append([]any{&u.ID, &u.Username, &u.Email, &u.DisplayName, &u.AcceptingMessages, &u.CreatedAt, &u.LastSeen,
		&u.HideNotificationText, &u.AvatarKey, &u.Role, &u.DisabledAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return parley.User{}, err
	}
	u.AvatarURL = parley.AvatarURL(u.ID, u.AvatarKey)
	u.Deleted = parley.IsDeletedUsername(u.Username)
	u.CreatedAt = utc(u.CreatedAt)
	u.LastSeen = utcp(u.LastSeen)
	u.DisabledAt = utcp(u.DisabledAt)
	return u, nil
}

// CreateUser stores a new user and sets u.ID, u.CreatedAt (now, unless
// the caller set it) and u.Role.
func (s *Store) CreateUser(ctx context.Context, u *parley.User, passwordHash string) error {
	return s.createUser(ctx, u, passwordHash, nil)
}

// firstUserLock is the advisory lock a sign-up takes while the users table
// looks empty, so that of concurrent first sign-ups exactly one becomes
// admin (they wait for one another; later sign-ups never take it).
const firstUserLock = 0x7061726c6579_01 // "parley", 1

// createUser stores a new user, running before (if set) first in the same
// transaction.
func (s *Store) createUser(ctx context.Context, u *parley.User, passwordHash string, before func(tx pgx.Tx) error) error {
	created := u.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	created = utc(created)
	role := u.Role
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		if role == "" {
			role = parley.InstanceMember
			var any bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&any); err != nil {
				return err
			}
			if !any {
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(firstUserLock)); err != nil {
					return err
				}
				// Read again: a first sign-up that held the lock has committed.
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&any); err != nil {
					return err
				}
				if !any {
					role = parley.InstanceAdmin
				}
			}
		}
		// A deleted account's username waits out its retirement.
		err := tx.QueryRow(ctx, `
			INSERT INTO users (username, email, display_name, accepting_messages, password_hash, created_at, role)
			SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT FROM retired_usernames WHERE lower(username) = lower($1) AND until > $6)
			RETURNING id`,
			u.Username, u.Email, u.DisplayName, u.AcceptingMessages, passwordHash, created, role,
		).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.EUSERNAMETAKEN, "This username is taken.")
		}
		return err
	})
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt, u.Role = id, created, role
	return nil
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, id int64) (parley.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, mapError(err)
}

// UserByUsername returns a user by username, without regard to case.
func (s *Store) UserByUsername(ctx context.Context, username string) (parley.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1) AND deleted_at IS NULL`, username))
	return u, mapError(err)
}

// UserByLogin returns the user whose username or email equals login, without
// regard to case, and the password hash. An empty login finds nobody.
func (s *Store) UserByLogin(ctx context.Context, login string) (parley.User, string, error) {
	if login == "" {
		return parley.User{}, "", parley.ErrNotFound
	}
	// Usernames cannot contain '@', so at most one user matches.
	var hash string
	u, err := scanUser(s.pool.QueryRow(ctx, `
		SELECT `+userColumns+`, password_hash FROM users
		WHERE lower(username) = lower($1) AND deleted_at IS NULL
		UNION ALL
		SELECT `+userColumns+`, password_hash FROM users
		WHERE lower(email) = lower($1) AND email <> '' AND deleted_at IS NULL
		LIMIT 1`, login), &hash)
	if err != nil {
		return parley.User{}, "", mapError(err)
	}
	return u, hash, nil
}

// likeEscaper makes LIKE wildcards in a prefix plain characters.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchUsers returns up to limit users whose username starts with prefix,
// ordered by username (byte order).
func (s *Store) SearchUsers(ctx context.Context, prefix string, limit int) ([]parley.User, error) {
	if limit <= 0 {
		return []parley.User{}, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+userColumns+` FROM users
		WHERE lower(username) LIKE $1 AND deleted_at IS NULL
		ORDER BY lower(username)
		LIMIT $2`,
		likeEscaper.Replace(strings.ToLower(prefix))+"%", limit)
	if err != nil {
		return nil, mapError(err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.User, error) { return scanUser(row) })
	if err != nil {
		return nil, mapError(err)
	}
	return users, nil
}

// UpdateUser changes the non-nil fields of upd and returns the user.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd parley.UserUpdate) (parley.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `
		UPDATE users SET
			display_name = coalesce($2, display_name),
			accepting_messages = coalesce($3, accepting_messages),
			hide_notification_text = coalesce($4, hide_notification_text)
		WHERE id = $1
		RETURNING `+userColumns,
		id, upd.DisplayName, upd.AcceptingMessages, upd.HideNotificationText))
	return u, mapError(err)
}

// LastSeen returns when each of ids was last online, in one query.
func (s *Store) LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, last_seen FROM users WHERE id = ANY($1) AND last_seen IS NOT NULL`, ids)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, mapError(err)
		}
		out[id] = at.UTC()
	}
	return out, mapError(rows.Err())
}

// SetLastSeen records when a user was last online; ENOTFOUND if there is no
// such user.
func (s *Store) SetLastSeen(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET last_seen = $2 WHERE id = $1`, id, utc(at))
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return parley.ErrNotFound
	}
	return nil
}

// AddLoginFailure records one failure at time at for each key.
func (s *Store) AddLoginFailure(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO login_failures (key, failed_at) SELECT k, $2 FROM unnest($1::text[]) AS k`,
		keys, utc(at))
	return mapError(err)
}

// LoginFailures counts the failures of key at or after since.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx,
		`SELECT count(*) FROM login_failures WHERE key = $1 AND failed_at >= $2`,
		key, utc(since)).Scan(&n)
	return n, mapError(err)
}

// ClearLoginFailures forgets the failures of key.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return mapError(err)
}
