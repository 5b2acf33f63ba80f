package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

var errBadInvite = parley.FieldErrorf("invite", "This invitation is not valid: it may have expired, been used up or revoked.")

// CreateInvitedUser is CreateUser taking one use of an invitation in the
// same transaction. The update locks the invitation's row, so concurrent
// sign-ups take its uses one after another.
func (s *Store) CreateInvitedUser(ctx context.Context, u *parley.User, passwordHash, code string, now time.Time) error {
	return s.createUser(ctx, u, passwordHash, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE invitations SET uses = uses + 1
			WHERE code = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses`, code, utc(now))
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return errBadInvite
		}
		return nil
	})
}

func collectUsers(rows pgx.Rows, err error) ([]parley.User, error) {
	if err != nil {
		return nil, mapError(err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.User, error) { return scanUser(row) })
	return users, mapError(err)
}

// ListUsers returns a page of users in id order.
func (s *Store) ListUsers(ctx context.Context, q parley.UserQuery) ([]parley.User, error) {
	if q.Limit <= 0 {
		q.Limit = parley.PageSizeDefault
	}
	p := likeEscaper.Replace(strings.ToLower(q.Prefix)) + "%"
	return collectUsers(s.pool.Query(ctx, `
		SELECT `+userColumns+` FROM users
		WHERE id > $1 AND deleted_at IS NULL AND ($2 = '%' OR lower(username) LIKE $2 OR (email <> '' AND lower(email) LIKE $2))
		ORDER BY id LIMIT $3`, q.AfterID, p, q.Limit))
}

// SetUserRole sets a user's instance role.
func (s *Store) SetUserRole(ctx context.Context, id int64, role string) (parley.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `UPDATE users SET role = $2 WHERE id = $1 RETURNING `+userColumns, id, role))
	return u, mapError(err)
}

// SetUserDisabled disables or enables an account; disabling deletes its
// sessions.
func (s *Store) SetUserDisabled(ctx context.Context, id int64, at *time.Time) (parley.User, error) {
	var u parley.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET disabled_at = CASE WHEN $2::timestamptz IS NULL THEN NULL
			ELSE coalesce(disabled_at, $2::timestamptz) END WHERE id = $1 RETURNING `+userColumns, id, utcp(at)))
		if err != nil || at == nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
	return u, err
}

// CreatePasswordReset stores a one-time password reset for userID.
func (s *Store) CreatePasswordReset(ctx context.Context, userID int64, tokenHash []byte, now, expiresAt time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET token_hash = $1, created_at = $3, expires_at = $4`,
		tokenHash, userID, utc(now), utc(expiresAt))
	return mapError(err)
}

// UsePasswordReset sets the password of a reset's user and ends the reset
// and the user's sessions.
func (s *Store) UsePasswordReset(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (parley.User, error) {
	var u parley.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id`,
			tokenHash, utc(now)).Scan(&id); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING `+userColumns, id, passwordHash))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
	return u, err
}

const invitationColumns = `i.id, i.code, coalesce(i.created_by, 0), coalesce(u.username, ''), i.created_at, i.expires_at,
	i.max_uses, i.uses, i.revoked_at`

const invitationFrom = ` FROM invitations i LEFT JOIN users u ON u.id = i.created_by`

func scanInvitation(row pgx.Row) (parley.Invitation, error) {
	var inv parley.Invitation
	err := row.Scan(&inv.ID, &inv.Code, &inv.CreatedBy, &inv.Creator, &inv.CreatedAt, &inv.ExpiresAt, &inv.MaxUses, &inv.Uses, &inv.RevokedAt)
	inv.CreatedAt, inv.ExpiresAt, inv.RevokedAt = utc(inv.CreatedAt), utc(inv.ExpiresAt), utcp(inv.RevokedAt)
	return inv, err
}

// CreateInvitation stores inv and sets its ID.
func (s *Store) CreateInvitation(ctx context.Context, inv *parley.Invitation) error {
	var by *int64
	if inv.CreatedBy != 0 {
		by = &inv.CreatedBy
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO invitations (code, created_by, created_at, expires_at, max_uses)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		inv.Code, by, utc(inv.CreatedAt), utc(inv.ExpiresAt), inv.MaxUses).Scan(&inv.ID)
	return mapError(err)
}

// Invitations lists invitations, newest first.
func (s *Store) Invitations(ctx context.Context, createdBy int64, limit int) ([]parley.Invitation, error) {
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	rows, err := s.pool.Query(ctx, `SELECT `+invitationColumns+invitationFrom+`
		WHERE $1 = 0 OR i.created_by = $1 ORDER BY i.id DESC LIMIT $2`, createdBy, limit)
	if err != nil {
		return nil, mapError(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Invitation, error) { return scanInvitation(row) })
	return list, mapError(err)
}

// Invitation returns an invitation by code.
func (s *Store) Invitation(ctx context.Context, code string) (parley.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.code = $1`, code))
	return inv, mapError(err)
}

// RevokeInvitation revokes an invitation.
func (s *Store) RevokeInvitation(ctx context.Context, id, createdBy int64, now time.Time) (parley.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `WITH revoked AS (
			UPDATE invitations SET revoked_at = coalesce(revoked_at, $3)
			WHERE id = $1 AND ($2 = 0 OR created_by = $2) RETURNING *)
		SELECT `+invitationColumns+` FROM revoked i LEFT JOIN users u ON u.id = i.created_by`, id, createdBy, utc(now)))
	return inv, mapError(err)
}

// InstanceStats counts the instance and measures the database.
func (s *Store) InstanceStats(ctx context.Context) (parley.InstanceStats, error) {
	var st parley.InstanceStats
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users WHERE deleted_at IS NULL),
		(SELECT count(*) FROM users WHERE role = 'admin'),
		(SELECT count(*) FROM users WHERE disabled_at IS NOT NULL),
		(SELECT count(*) FROM conversations),
		(SELECT count(*) FROM conversations WHERE kind = 'group'),
		(SELECT coalesce(sum(last_seq), 0)::bigint FROM conversations),
		(SELECT count(*) FROM reports WHERE resolved_at IS NULL),
		pg_database_size(current_database())`).Scan(
		&st.Users, &st.Admins, &st.Disabled, &st.Conversations, &st.Groups, &st.Messages, &st.OpenReports, &st.DatabaseBytes)
	return st, mapError(err)
}
