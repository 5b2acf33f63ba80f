package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
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
// messages_fts (migrations 00012, 00020) is an FTS5 index of the text of
// text messages with the trigram tokenizer, without regard to case, that
// keeps which messages hold each trigram but not where (detail=none): a
// term of three characters or more selects the messages that hold all of
// its trigrams (trigrams), and the text of each is then checked for the
// term itself (shortTerm), so that exactly the texts that contain it are
// found. The writer adds new messages in
// one statement once indexBatch of them wait, or a second after the
// first (append.go, indexNew), and a search has the
// waiting ones added before it looks: it finds every message stored
// before it. Triggers replace the text of an edited message and remove a
// deleted one (for messages already indexed; the others are indexed as
// they then stand).
//
// A query drives the index newest first (ORDER BY rowid DESC, which FTS5
// walks without sorting) and keeps the messages of the caller's
// conversations. A query of only terms shorter than three characters
// walks the caller's newest messages instead (searchShort) and checks
// each term on the text (shortTerm): with instr() on the text as it is
// when the term has no letters with case (CJK), on lower() of it when
// the term is ASCII, else on parley_fold, our own case folding (SQLite's
// lower() and LIKE fold ASCII only).

// indexNewWrite is a write that adds the messages waiting for the search
// index (indexNew).
func indexNewWrite(ctx context.Context, tx *wtx) error { return tx.indexNew(ctx) }

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
	where = append(where, `m.kind = 'text'`, `m.deleted_at IS NULL`)
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
			match = append(match, trigrams(t))
		}
		where = append(where, shortTerm(t, arg(t)))
	}

	if len(match) > 0 {
		// Messages waiting for the index (indexBatch) are added first:
		// a search finds every message stored before it.
		if s.cache.unindexed.Load() > 0 {
			if err := s.write(ctx, indexNewWrite); err != nil {
				return parley.SearchPage{}, err
			}
		}
		where = append(where, `m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = `+arg(q.UserID)+`)`)
		if q.ConversationID != 0 {
			where = append(where, `m.conversation_id = `+arg(q.ConversationID))
		}
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
	// caller's conversations below the cursor (the window), newest first,
	// until the page is full.
	return s.searchShort(ctx, q, before, limit, strings.Join(where, " AND "), args)
}

// shortStreamShare decides how searchShort finds the window: walking all
// messages newest first (the primary key, no sorting, stopping when the
// page is full) when the caller's conversations hold at least 1 in
// shortStreamShare of all messages, so that a full window visits at most
// shortStreamShare * SearchShortScan of them; otherwise through the
// conversations' index, which sorts every message of the caller's
// conversations below the cursor first. Both examine the same window.
var shortStreamShare int64 = 40 // a variable for tests

// searchShort answers a query of only short terms: it examines the
// newest SearchShortScan messages of the caller's conversations (of
// q.ConversationID if given) below the cursor, newest first, and stops
// when it holds limit+1 that match cond (the query's other conditions on
// messages m, whose parameters are args). A page that found fewer comes
// with the cursor of the oldest message examined when the window was
// full.
func (s *Store) searchShort(ctx context.Context, q parley.SearchQuery, before int64, limit int, cond string, args []any) (parley.SearchPage, error) {
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("?%d", len(args))
	}
	convs := `SELECT conversation_id FROM members WHERE user_id = ` + arg(q.UserID)
	if q.ConversationID != 0 {
		convs += ` AND conversation_id = ` + arg(q.ConversationID)
	}
	var mine, all int64
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT coalesce(sum(last_seq), 0) FROM conversations WHERE id IN (`+convs+`)),
		(SELECT coalesce(max(id), 0) FROM messages)`, args...).Scan(&mine, &all); err != nil {
		return parley.SearchPage{}, dbErr(err)
	}
	var window string
	if mine*shortStreamShare >= all {
		// The primary key backwards; the unary + keeps SQLite from using
		// the conversations' index instead (and sorting).
		window = `SELECT m.id, ` + cond + ` FROM messages m WHERE +m.conversation_id IN (` + convs + `)
			AND m.id < ` + arg(before) + ` ORDER BY m.id DESC LIMIT ` + arg(parley.SearchShortScan)
	} else {
		// The window's ids from the covering index (sorted), then each
		// message by its id, newest first.
		window = `SELECT m.id, ` + cond + ` FROM messages m WHERE m.id IN (SELECT id FROM messages
			WHERE conversation_id IN (` + convs + `) AND id < ` + arg(before) + ` ORDER BY id DESC LIMIT ` + arg(parley.SearchShortScan) + `)
			ORDER BY m.id DESC`
	}
	var (
		hits   []int64
		n      int
		lowest int64
	)
	rows, err := s.r.QueryContext(ctx, window, args...)
	if err != nil {
		return parley.SearchPage{}, dbErr(err)
	}
	for rows.Next() {
		var hit bool
		if err := rows.Scan(&lowest, &hit); err != nil {
			rows.Close()
			return parley.SearchPage{}, dbErr(err)
		}
		n++
		if hit {
			if hits = append(hits, lowest); len(hits) > limit {
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return parley.SearchPage{}, dbErr(err)
	}
	if len(hits) <= limit && n < parley.SearchShortScan {
		lowest = 0 // the window reached the oldest message
	}
	if len(hits) == 0 {
		return parley.SearchPage{Messages: []parley.Message{}, Next: lowest}, nil
	}
	ids, _ := json.Marshal(hits) // numbers always encode
	ms, err := readMessages(ctx, s.r, `SELECT `+msgCols+` FROM `+msgFrom+`
		WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id DESC`, string(ids))
	if err != nil {
		return parley.SearchPage{}, err
	}
	return pageOf(ms, limit, lowest), nil
}

// trigrams is the FTS5 query of the messages that hold every trigram of
// the term t (three characters or more), each an FTS5 string (double
// quotes doubled, nothing else special), the same trigram once.
func trigrams(t string) string {
	rs := []rune(t)
	seen := make(map[string]bool, len(rs))
	var b strings.Builder
	for i := 0; i+parley.SearchIndexedTerm <= len(rs); i++ {
		tri := string(rs[i : i+parley.SearchIndexedTerm])
		if seen[tri] {
			continue
		}
		seen[tri] = true
		if b.Len() > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"` + strings.ReplaceAll(tri, `"`, `""`) + `"`)
	}
	return b.String()
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
