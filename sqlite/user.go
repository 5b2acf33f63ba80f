package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"parley"
)

const userCols = `id, username, COALESCE(email, ''), display_name, accepting_messages, created_at, last_seen,
	hide_notification_text, COALESCE(avatar_key, ''), role, disabled_at`

// scanUser scans userCols and then extra.
func scanUser(sc scanner, extra ...any) (parley.User, error) {
	var (
		u        parley.User
		created  int64
		lastSeen sql.NullInt64
		disabled sql.NullInt64
	)
	dest := append([]any{&u.ID, &u.Username, &u.Email, &u.DisplayName, &u.AcceptingMessages, &created, &lastSeen,
		&u.HideNotificationText, &u.AvatarKey, &u.Role, &disabled}, extra...)
	err := sc.Scan(dest...)
	u.CreatedAt, u.LastSeen, u.DisabledAt = tm(created), tmp(lastSeen), tmp(disabled)
	u.Deleted = parley.IsDeletedUsername(u.Username)
	u.AvatarURL = parley.AvatarURL(u.ID, u.AvatarKey)
	return u, err
}

func getUser(ctx context.Context, q queryer, id int64) (parley.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, dbErr(err)
}

// CreateUser stores a new user and sets u.ID, u.CreatedAt and u.Role.
func (s *Store) CreateUser(ctx context.Context, u *parley.User, passwordHash string) error {
	return s.createUser(ctx, u, passwordHash, nil)
}

// createUser stores a new user, running first (in the same transaction)
// before, if set. The writer is the only writer of this process, and its
// transactions begin IMMEDIATE (another process, `parley admin`, waits
// for the lock): nothing can take the name, or be the first user, between
// the checks and the insert.
func (s *Store) createUser(ctx context.Context, u *parley.User, passwordHash string, before func(ctx context.Context, tx *wtx) error) error {
	var (
		id      int64
		created = time.Now().UTC().Truncate(time.Microsecond)
		nu      = *u // the writer may still run after a canceled caller has returned
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var taken bool
		// A deleted account's username waits out its retirement.
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1)
			OR EXISTS (SELECT 1 FROM retired_usernames WHERE username = ?1 AND until > ?2)`, nu.Username, ts(created)).Scan(&taken)
		if err != nil {
			return err
		} else if taken {
			return parley.Errorf(parley.EUSERNAMETAKEN, "That username is taken.")
		}
		if nu.Email != "" {
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = ?)`, nu.Email).Scan(&taken)
			if err != nil {
				return err
			} else if taken {
				return parley.Errorf(parley.EEMAILTAKEN, "That email address is already registered.")
			}
		}
		if before != nil {
			if err := before(ctx, tx); err != nil {
				return err
			}
		}
		if nu.Role == "" {
			var any bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&any); err != nil {
				return err
			}
			nu.Role = parley.InstanceMember
			if !any {
				nu.Role = parley.InstanceAdmin
			}
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO users (username, email, display_name, password_hash, accepting_messages, created_at, role)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nu.Username, nullStr(nu.Email), nu.DisplayName, passwordHash, nu.AcceptingMessages, ts(created), nu.Role,
		).Scan(&id)
	})
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt, u.Role = id, created, nu.Role
	return nil
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, id int64) (parley.User, error) {
	return getUser(ctx, s.rd, id)
}

// UserByUsername returns a user by normalized username.
func (s *Store) UserByUsername(ctx context.Context, username string) (parley.User, error) {
	u, err := scanUser(s.rd.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ? AND deleted_at IS NULL`, username))
	return u, dbErr(err)
}

// UserByLogin returns the user whose username or email is login, with the
// password hash.
func (s *Store) UserByLogin(ctx context.Context, login string) (parley.User, string, error) {
	var hash string
	u, err := scanUser(s.rd.QueryRowContext(ctx, `
		SELECT `+userCols+`, password_hash FROM users WHERE (username = ?1 OR email = ?1) AND deleted_at IS NULL`, login), &hash)
	if err != nil {
		return parley.User{}, "", dbErr(err)
	}
	return u, hash, nil
}

// likeEscaper makes a string match itself in LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchUsers returns up to limit users whose username starts with prefix,
// ordered by username.
func (s *Store) SearchUsers(ctx context.Context, prefix string, limit int) ([]parley.User, error) {
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	// LIKE ignores ASCII case, as the username column's NOCASE does.
	return collect(ctx, s.rd, func(sc scanner) (parley.User, error) { return scanUser(sc) }, `
		SELECT `+userCols+` FROM users WHERE username LIKE ? ESCAPE '\' AND deleted_at IS NULL
		ORDER BY username LIMIT ?`, likeEscaper.Replace(prefix)+"%", limit)
}

// UpdateUser changes the non-nil fields of upd and returns the user.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd parley.UserUpdate) (parley.User, error) {
	var u parley.User
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET display_name = COALESCE(?, display_name),
				accepting_messages = COALESCE(?, accepting_messages),
				hide_notification_text = COALESCE(?, hide_notification_text)
			WHERE id = ?`, upd.DisplayName, upd.AcceptingMessages, upd.HideNotificationText, id)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		u, err = getUser(ctx, tx, id)
		return err
	})
	return u, err
}

// mustAffect turns an update or delete that changed no row into
// ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return parley.ErrNotFound
	}
	return nil
}

// SetLastSeen records when a user was last online.
func (s *Store) SetLastSeen(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		// Quiet: last_seen is not cached by the writer (append.go).
		return tx.quietly(func() error {
			return mustAffect(tx.ExecContext(ctx, `UPDATE users SET last_seen = ? WHERE id = ?`, ts(at), id))
		})
	})
}

// LastSeen returns when each of ids was last online, in one query.
func (s *Store) LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.rd.QueryContext(ctx, `SELECT id, last_seen FROM users
		WHERE id IN (SELECT value FROM json_each(?)) AND last_seen IS NOT NULL`, jsonList(ids))
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, dbErr(err)
		}
		out[id] = tm(at)
	}
	return out, dbErr(rows.Err())
}

// AddLoginFailure records one failed login at time at for each key.
func (s *Store) AddLoginFailure(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, k, ts(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoginFailures counts the failures recorded for key at or after since.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.rd.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE key = ? AND at >= ?`, key, ts(since)).Scan(&n)
	return n, dbErr(err)
}

// ClearLoginFailures forgets the failures of key.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
		return err
	})
}
