package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite"

	"parley"
)

// # Search
//
// messages_fts (migration 00012) is an FTS5 index of the text of text
// messages with the trigram tokenizer: a term of three characters or more
// is a phrase of its trigrams, which matches exactly the texts that
// contain it, without regard to case. The index changes in the
// transaction that writes the message: the writer indexes the messages a
// batch appended in one statement (append.go, indexNew), and triggers
// replace the text of an edited message and remove a deleted one.
//
// A query drives the index newest first (ORDER BY rowid DESC, which FTS5
// walks without sorting) and keeps the messages of the caller's
// conversations; terms shorter than three characters are checked on the
// text with parley_fold, our own case folding (SQLite's lower() and LIKE
// fold ASCII only).

func init() {
	// parley_fold(text) is parley.FoldSearch. Registered for every
	// connection of this driver; only queries use it (never the schema),
	// so other tools can open the database.
	sqlite.MustRegisterDeterministicScalarFunction("parley_fold", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return parley.FoldSearch(v), nil
			case []byte:
				return parley.FoldSearch(string(v)), nil
			}
			return "", nil
		})
}

// SearchMessages returns a page of the messages q selects, newest first.
func (s *Store) SearchMessages(ctx context.Context, q parley.SearchQuery) (parley.SearchPage, error) {
	if len(q.Terms) == 0 {
		return parley.SearchPage{}, parley.FieldErrorf("q", "Say what to search for.")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = parley.SearchLimitDefault
	}
	before := q.BeforeID
	if before <= 0 {
		before = math.MaxInt64
	}
	var (
		where []string
		args  []any
		match []string
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("?%d", len(args))
	}
	where = append(where, `m.kind = 'text'`, `m.deleted_at IS NULL`,
		`m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = `+arg(q.UserID)+`)`)
	if q.ConversationID != 0 {
		where = append(where, `m.conversation_id = `+arg(q.ConversationID))
	}
	if q.SenderID != 0 {
		where = append(where, `m.sender_id = `+arg(q.SenderID))
	}
	if !q.After.IsZero() {
		where = append(where, `m.created_at >= `+arg(ts(q.After)))
	}
	if !q.Before.IsZero() {
		where = append(where, `m.created_at < `+arg(ts(q.Before)))
	}
	if q.HasAttachment {
		where = append(where, `m.attachments IS NOT NULL`)
	}
	for _, t := range q.Terms {
		if utf8.RuneCountInString(t) >= parley.SearchIndexedTerm {
			// An FTS5 string: double quotes doubled, nothing else special.
			match = append(match, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		} else {
			where = append(where, shortTerm(t, arg(t)))
		}
	}

	if len(match) > 0 {
		query := `SELECT ` + msgCols + ` FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid
			LEFT JOIN users u ON u.id = m.sender_id
			WHERE messages_fts MATCH ` + arg(strings.Join(match, " AND ")) + ` AND f.rowid < ` + arg(before) + `
				AND ` + strings.Join(where, " AND ") + `
			ORDER BY f.rowid DESC LIMIT ` + arg(limit+1)
		ms, err := readMessages(ctx, s.r, query, args...)
		if err != nil {
			return parley.SearchPage{}, err
		}
		return pageOf(ms, limit, 0), nil
	}

	// Only short terms: examine the newest SearchShortScan messages of the
	// caller's conversations below the cursor (the window), counting them
	// first to know whether older ones are left.
	windowOf := func(p func(any) string) string {
		w := `SELECT id FROM messages WHERE conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ` + p(q.UserID) + `)`
		if q.ConversationID != 0 {
			w += ` AND conversation_id = ` + p(q.ConversationID)
		}
		return w + ` AND id < ` + p(before) + ` ORDER BY id DESC LIMIT ` + p(parley.SearchShortScan)
	}
	var (
		wargs  []any
		lowest int64
		n      int
	)
	count := windowOf(func(v any) string { wargs = append(wargs, v); return fmt.Sprintf("?%d", len(wargs)) })
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(min(id), 0), count(*) FROM (`+count+`)`, wargs...).Scan(&lowest, &n); err != nil {
		return parley.SearchPage{}, dbErr(err)
	}
	window := windowOf(arg)
	ms, err := readMessages(ctx, s.r, `SELECT `+msgCols+` FROM messages m LEFT JOIN users u ON u.id = m.sender_id
		WHERE m.id IN (`+window+`) AND `+strings.Join(where, " AND ")+`
		ORDER BY m.id DESC LIMIT `+arg(limit+1), args...)
	if err != nil {
		return parley.SearchPage{}, err
	}
	if n < parley.SearchShortScan {
		lowest = 0 // the window reached the oldest message
	}
	return pageOf(ms, limit, lowest), nil
}

// shortTerm is the condition that the text holds the folded term t (its
// parameter p). A term without letters that have case (Chinese, Japanese,
// digits) is looked for as it is; an ASCII one in SQLite's lower(), which
// folds ASCII; only others need parley_fold, a call into Go per row.
func shortTerm(t, p string) string {
	switch {
	case strings.ToUpper(t) == t:
		return `instr(m.text, ` + p + `) > 0`
	case isASCII(t):
		return `instr(lower(m.text), ` + p + `) > 0`
	}
	return `instr(parley_fold(m.text), ` + p + `) > 0`
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// pageOf makes a page of up to limit messages from ms, which holds one
// more when there is more. scanned, when not 0, is where the next page
// starts if ms does not say.
func pageOf(ms []parley.Message, limit int, scanned int64) parley.SearchPage {
	if len(ms) > limit {
		return parley.SearchPage{Messages: ms[:limit], Next: ms[limit-1].ID}
	}
	return parley.SearchPage{Messages: ms, Next: scanned}
}

// backfillBatch is how many ids the backfill indexes in one write.
var backfillBatch int64 = 2000 // a variable for tests

// backfill indexes the messages stored before the search migration (see
// 00012_search.sql), newest first, a batch per write so that sends go
// between them. It returns when every message is indexed or the store
// closes.
func (s *Store) backfill(log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	var done int64
	if err := s.r.QueryRowContext(ctx, `SELECT done_from FROM search_backfill`).Scan(&done); err != nil || done <= 1 {
		return
	}
	start, count := time.Now(), 0
	for done > 1 {
		err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
			if err := tx.QueryRowContext(ctx, `SELECT done_from FROM search_backfill`).Scan(&done); err != nil {
				return err
			}
			from := max(done-backfillBatch, 1)
			res, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages
				WHERE id >= ? AND id < ? AND kind = 'text' AND text != ''`, from, done)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			count += int(n)
			done = from
			_, err = tx.ExecContext(ctx, `UPDATE search_backfill SET done_from = ?`, from)
			return err
		})
		if err != nil {
			if ctx.Err() == nil && parley.ErrorCode(err) != parley.EUNAVAILABLE {
				log.Error("search index backfill", "err", err)
			}
			return
		}
	}
	log.Info("search index backfill done", "messages", count, "took", time.Since(start).Round(time.Millisecond))
}
