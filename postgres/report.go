package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

const reportColumns = `r.id, r.conversation_id, r.seq, coalesce(r.sender_id, 0), coalesce(su.username, ''), coalesce(su.display_name, ''),
	coalesce(r.reporter_id, 0), coalesce(ru.username, ''), coalesce(ru.display_name, ''),
	r.reason, r.text, r.created_at, r.resolved_at, coalesce(r.resolved_by, 0), r.action`

const reportFrom = ` FROM reports r LEFT JOIN users su ON su.id = r.sender_id LEFT JOIN users ru ON ru.id = r.reporter_id`

func scanReport(row pgx.Row) (parley.Report, error) {
	var (
		r                parley.Report
		sender, reporter parley.UserRef
	)
	err := row.Scan(&r.ID, &r.ConversationID, &r.Seq, &sender.ID, &sender.Username, &sender.DisplayName,
		&reporter.ID, &reporter.Username, &reporter.DisplayName,
		&r.Reason, &r.Text, &r.CreatedAt, &r.ResolvedAt, &r.ResolvedBy, &r.Action)
	if err != nil {
		return parley.Report{}, err
	}
	r.CreatedAt, r.ResolvedAt = utc(r.CreatedAt), utcp(r.ResolvedAt)
	if r.SenderID = sender.ID; sender.ID != 0 {
		r.Sender = &sender
	}
	if r.ReporterID = reporter.ID; reporter.ID != 0 {
		r.Reporter = &reporter
	}
	return r, nil
}

func getReport(ctx context.Context, q querier, where string, args ...any) (parley.Report, error) {
	return scanReport(q.QueryRow(ctx, `SELECT `+reportColumns+reportFrom+` WHERE `+where, args...))
}

// CreateReport stores a report of a message, once per reporter.
func (s *Store) CreateReport(ctx context.Context, r *parley.Report) (bool, error) {
	var (
		out     parley.Report
		created bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			kind, text string
			sender     *int64
			deleted    *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT kind, body, sender_id, deleted_at FROM messages
			WHERE conversation_id = $1 AND seq = $2`, r.ConversationID, r.Seq).Scan(&kind, &text, &sender, &deleted)
		if err != nil {
			return err
		}
		if kind != parley.MessageText || deleted != nil {
			return parley.FieldErrorf("seq", "Only a message that is not deleted can be reported.")
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO reports (conversation_id, seq, sender_id, reporter_id, reason, text, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (conversation_id, seq, reporter_id) DO NOTHING RETURNING id`,
			r.ConversationID, r.Seq, sender, r.ReporterID, r.Reason, text, utc(r.CreatedAt)).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			created = false
			out, err = getReport(ctx, tx, `r.conversation_id = $1 AND r.seq = $2 AND r.reporter_id = $3`,
				r.ConversationID, r.Seq, r.ReporterID)
			return err
		case err != nil:
			return err
		}
		created = true
		out, err = getReport(ctx, tx, `r.id = $1`, id)
		return err
	})
	if err != nil {
		return false, err
	}
	*r = out
	return created, nil
}

// Reports lists open or resolved reports, newest first.
func (s *Store) Reports(ctx context.Context, open bool, limit int) ([]parley.Report, error) {
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	where := ` WHERE r.resolved_at IS NULL`
	if !open {
		where = ` WHERE r.resolved_at IS NOT NULL`
	}
	rows, err := s.pool.Query(ctx, `SELECT `+reportColumns+reportFrom+where+` ORDER BY r.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, mapError(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Report, error) { return scanReport(row) })
	return list, mapError(err)
}

// Report returns one report.
func (s *Store) Report(ctx context.Context, id int64) (parley.Report, error) {
	r, err := getReport(ctx, s.pool, `r.id = $1`, id)
	return r, mapError(err)
}

// ResolveReport records an admin's action on an open report and on the
// other open reports of its message.
func (s *Store) ResolveReport(ctx context.Context, id, by int64, action string, now time.Time) (parley.Report, error) {
	var r parley.Report
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = getReport(ctx, tx, `r.id = $1`, id); err != nil {
			return err
		}
		// Lock the message's reports: one admin's action wins.
		var open bool
		if err := tx.QueryRow(ctx, `SELECT resolved_at IS NULL FROM reports WHERE id = $1 FOR UPDATE`, id).Scan(&open); err != nil {
			return err
		}
		if !open {
			return parley.Errorf(parley.ECONFLICT, "This report has been dealt with already.")
		}
		var byID *int64
		if by != 0 {
			byID = &by
		}
		if _, err := tx.Exec(ctx, `UPDATE reports SET resolved_at = $1, resolved_by = $2, action = $3
			WHERE conversation_id = $4 AND seq = $5 AND resolved_at IS NULL`,
			utc(now), byID, action, r.ConversationID, r.Seq); err != nil {
			return err
		}
		r, err = getReport(ctx, tx, `r.id = $1`, id)
		return err
	})
	return r, err
}
