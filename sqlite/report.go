package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"parley"
)

const reportCols = `r.id, r.conversation_id, r.seq, COALESCE(r.sender_id, 0), COALESCE(su.username, ''), COALESCE(su.display_name, ''),
	COALESCE(r.reporter_id, 0), COALESCE(ru.username, ''), COALESCE(ru.display_name, ''),
	r.reason, r.text, r.created_at, r.resolved_at, COALESCE(r.resolved_by, 0), r.action`

const reportFrom = ` FROM reports r LEFT JOIN users su ON su.id = r.sender_id LEFT JOIN users ru ON ru.id = r.reporter_id`

func scanReport(sc scanner) (parley.Report, error) {
	var (
		r                parley.Report
		sender, reporter parley.UserRef
		created          int64
		resolved         sql.NullInt64
	)
	err := sc.Scan(&r.ID, &r.ConversationID, &r.Seq, &sender.ID, &sender.Username, &sender.DisplayName,
		&reporter.ID, &reporter.Username, &reporter.DisplayName,
		&r.Reason, &r.Text, &created, &resolved, &r.ResolvedBy, &r.Action)
	r.CreatedAt, r.ResolvedAt = tm(created), tmp(resolved)
	if r.SenderID = sender.ID; sender.ID != 0 {
		r.Sender = &sender
	}
	if r.ReporterID = reporter.ID; reporter.ID != 0 {
		r.Reporter = &reporter
	}
	return r, err
}

func getReport(ctx context.Context, q queryer, where string, args ...any) (parley.Report, error) {
	r, err := scanReport(q.QueryRowContext(ctx, `SELECT `+reportCols+reportFrom+` WHERE `+where, args...))
	return r, dbErr(err)
}

// CreateReport stores a report of a message, once per reporter.
func (s *Store) CreateReport(ctx context.Context, r *parley.Report) (bool, error) {
	var (
		nr      = *r
		out     parley.Report
		created bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var (
			kind, text string
			sender     sql.NullInt64
			deleted    sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT kind, text, sender_id, deleted_at FROM messages
			WHERE conversation_id = ? AND seq = ?`, nr.ConversationID, nr.Seq).Scan(&kind, &text, &sender, &deleted)
		if err != nil {
			return err
		}
		if kind != parley.MessageText || deleted.Valid {
			return parley.FieldErrorf("seq", "Only a message that is not deleted can be reported.")
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO reports (conversation_id, seq, sender_id, reporter_id, reason, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conversation_id, seq, reporter_id) DO NOTHING RETURNING id`,
			nr.ConversationID, nr.Seq, sender, nr.ReporterID, nr.Reason, text, ts(nr.CreatedAt)).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out, err = getReport(ctx, tx, `r.conversation_id = ? AND r.seq = ? AND r.reporter_id = ?`,
				nr.ConversationID, nr.Seq, nr.ReporterID)
			created = false
			return err
		case err != nil:
			return err
		}
		created = true
		out, err = getReport(ctx, tx, `r.id = ?`, id)
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
	return collect(ctx, s.rd, scanReport, `SELECT `+reportCols+reportFrom+where+` ORDER BY r.id DESC LIMIT ?`, limit)
}

// Report returns one report.
func (s *Store) Report(ctx context.Context, id int64) (parley.Report, error) {
	return getReport(ctx, s.rd, `r.id = ?`, id)
}

// ResolveReport records an admin's action on an open report and on the
// other open reports of its message.
func (s *Store) ResolveReport(ctx context.Context, id, by int64, action string, now time.Time) (parley.Report, error) {
	var r parley.Report
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var err error
		if r, err = getReport(ctx, tx, `r.id = ?`, id); err != nil {
			return err
		}
		if r.ResolvedAt != nil {
			return parley.Errorf(parley.ECONFLICT, "This report has been dealt with already.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reports SET resolved_at = ?, resolved_by = ?, action = ?
			WHERE conversation_id = ? AND seq = ? AND resolved_at IS NULL`,
			ts(now), nullInt(by), action, r.ConversationID, r.Seq); err != nil {
			return err
		}
		r, err = getReport(ctx, tx, `r.id = ?`, id)
		return err
	})
	return r, err
}
