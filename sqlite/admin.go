package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"time"

	"parley"
)

var errBadInvite = parley.FieldErrorf("invite", "This invitation is not valid: it may have expired, been used up or revoked.")

// CreateInvitedUser is CreateUser taking one use of an invitation in the
// same transaction.
func (s *Store) CreateInvitedUser(ctx context.Context, u *parley.User, passwordHash, code string, now time.Time) error {
	return s.createUser(ctx, u, passwordHash, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE invitations SET uses = uses + 1
			WHERE code = ? AND revoked_at IS NULL AND expires_at > ? AND uses < max_uses`, code, ts(now))
		if err := mustAffect(res, err); parley.ErrorCode(err) == parley.ENOTFOUND {
			return errBadInvite
		} else {
			return err
		}
	})
}

// ListUsers returns a page of users in id order.
func (s *Store) ListUsers(ctx context.Context, q parley.UserQuery) ([]parley.User, error) {
	if q.Limit <= 0 {
		q.Limit = parley.PageSizeDefault
	}
	p := likeEscaper.Replace(q.Prefix) + "%"
	return collect(ctx, s.rd, func(sc scanner) (parley.User, error) { return scanUser(sc) }, `
		SELECT `+userCols+` FROM users
		WHERE id > ?1 AND deleted_at IS NULL AND (?2 = '%' OR username LIKE ?2 ESCAPE '\' OR email LIKE ?2 ESCAPE '\')
		ORDER BY id LIMIT ?3`, q.AfterID, p, q.Limit)
}

// SetUserRole sets a user's instance role.
func (s *Store) SetUserRole(ctx context.Context, id int64, role string) (parley.User, error) {
	var u parley.User
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		if err := mustAffect(tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, id)); err != nil {
			return err
		}
		var err error
		u, err = getUser(ctx, tx, id)
		return err
	})
	return u, err
}

// SetUserDisabled disables or enables an account; disabling deletes its
// sessions.
func (s *Store) SetUserDisabled(ctx context.Context, id int64, at *time.Time) (parley.User, error) {
	var (
		u     parley.User
		since sql.NullInt64
	)
	if at != nil {
		since = sql.NullInt64{Int64: ts(*at), Valid: true}
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = CASE WHEN ?1 IS NULL THEN NULL
			ELSE COALESCE(disabled_at, ?1) END WHERE id = ?2`, since, id)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		if at != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		u, err = getUser(ctx, tx, id)
		return err
	})
	return u, err
}

// CreatePasswordReset stores a one-time password reset for userID.
func (s *Store) CreatePasswordReset(ctx context.Context, userID int64, tokenHash []byte, now, expiresAt time.Time) error {
	hash := append([]byte(nil), tokenHash...)
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
			VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = ?1, created_at = ?3, expires_at = ?4`,
			hash, userID, ts(now), ts(expiresAt))
		return err
	})
}

// UsePasswordReset sets the password of a reset's user and ends the
// reset and the user's sessions.
func (s *Store) UsePasswordReset(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (parley.User, error) {
	hash := append([]byte(nil), tokenHash...)
	var u parley.User
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `DELETE FROM password_resets WHERE token_hash = ? AND expires_at > ? RETURNING user_id`,
			hash, ts(now)).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		u, err = getUser(ctx, tx, id)
		return err
	})
	return u, err
}

const invitationCols = `i.id, i.code, COALESCE(i.created_by, 0), COALESCE(u.username, ''), i.created_at, i.expires_at,
	i.max_uses, i.uses, i.revoked_at`

const invitationFrom = ` FROM invitations i LEFT JOIN users u ON u.id = i.created_by`

func scanInvitation(sc scanner) (parley.Invitation, error) {
	var (
		inv              parley.Invitation
		created, expires int64
		revoked          sql.NullInt64
	)
	err := sc.Scan(&inv.ID, &inv.Code, &inv.CreatedBy, &inv.Creator, &created, &expires, &inv.MaxUses, &inv.Uses, &revoked)
	inv.CreatedAt, inv.ExpiresAt, inv.RevokedAt = tm(created), tm(expires), tmp(revoked)
	return inv, err
}

// CreateInvitation stores inv and sets its ID.
func (s *Store) CreateInvitation(ctx context.Context, inv *parley.Invitation) error {
	var (
		id int64
		ni = *inv
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM invitations WHERE code = ?)`, ni.Code).Scan(&taken); err != nil {
			return err
		} else if taken {
			return parley.Errorf(parley.ECONFLICT, "That invitation code is taken.")
		}
		return tx.QueryRowContext(ctx, `INSERT INTO invitations (code, created_by, created_at, expires_at, max_uses)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			ni.Code, nullInt(ni.CreatedBy), ts(ni.CreatedAt), ts(ni.ExpiresAt), ni.MaxUses).Scan(&id)
	})
	if err != nil {
		return err
	}
	inv.ID = id
	return nil
}

// Invitations lists invitations, newest first.
func (s *Store) Invitations(ctx context.Context, createdBy int64, limit int) ([]parley.Invitation, error) {
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	return collect(ctx, s.rd, scanInvitation, `SELECT `+invitationCols+invitationFrom+`
		WHERE ?1 = 0 OR i.created_by = ?1 ORDER BY i.id DESC LIMIT ?2`, createdBy, limit)
}

// Invitation returns an invitation by code.
func (s *Store) Invitation(ctx context.Context, code string) (parley.Invitation, error) {
	inv, err := scanInvitation(s.rd.QueryRowContext(ctx, `SELECT `+invitationCols+invitationFrom+` WHERE i.code = ?`, code))
	return inv, dbErr(err)
}

// RevokeInvitation revokes an invitation.
func (s *Store) RevokeInvitation(ctx context.Context, id, createdBy int64, now time.Time) (parley.Invitation, error) {
	var inv parley.Invitation
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = COALESCE(revoked_at, ?)
			WHERE id = ? AND (? = 0 OR created_by = ?)`, ts(now), id, createdBy, createdBy)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		inv, err = scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationCols+invitationFrom+` WHERE i.id = ?`, id))
		return err
	})
	return inv, err
}

// InstanceStats counts the instance and measures the database file.
func (s *Store) InstanceStats(ctx context.Context) (parley.InstanceStats, error) {
	var (
		st   parley.InstanceStats
		file string
	)
	err := s.rd.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM users WHERE deleted_at IS NULL),
		(SELECT count(*) FROM users WHERE role = 'admin'),
		(SELECT count(*) FROM users WHERE disabled_at IS NOT NULL),
		(SELECT count(*) FROM conversations),
		(SELECT count(*) FROM conversations WHERE kind = 'group'),
		(SELECT COALESCE(sum(last_seq), 0) FROM conversations),
		(SELECT count(*) FROM reports WHERE resolved_at IS NULL),
		(SELECT file FROM pragma_database_list WHERE name = 'main')`).Scan(
		&st.Users, &st.Admins, &st.Disabled, &st.Conversations, &st.Groups, &st.Messages, &st.OpenReports, &file)
	if err != nil {
		return parley.InstanceStats{}, dbErr(err)
	}
	for _, f := range []string{file, file + "-wal"} {
		fi, err := os.Stat(f)
		if err == nil {
			st.DatabaseBytes += fi.Size()
		} else if !errors.Is(err, os.ErrNotExist) {
			return parley.InstanceStats{}, err
		}
	}
	return st, nil
}
