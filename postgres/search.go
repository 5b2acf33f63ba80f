package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

// # Search
//
// messages_search (migration 00012) is a pg_trgm GIN index on lower(body)
// of the text messages that are not deleted. Each term becomes
// lower(body) LIKE '%term%' (LIKE's wildcards in the term escaped), which
// the index serves for terms of three characters or more; lower() in a
// UTF-8 database folds every script that has case, as parley.FoldSearch
// does. Results come newest first by id, the order of the primary key.

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
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	memberOf := func(p func(any) string) string {
		c := `SELECT conversation_id FROM members WHERE user_id = ` + p(q.UserID)
		if q.ConversationID != 0 {
			c += ` AND conversation_id = ` + p(q.ConversationID)
		}
		return c
	}
	where = append(where, `m.kind = 'text'`, `m.deleted_at IS NULL`, `m.conversation_id IN (`+memberOf(arg)+`)`)
	if q.SenderID != 0 {
		where = append(where, `m.sender_id = `+arg(q.SenderID))
	}
	if !q.After.IsZero() {
		where = append(where, `m.created_at >= `+arg(q.After))
	}
	if !q.Before.IsZero() {
		where = append(where, `m.created_at < `+arg(q.Before))
	}
	if q.HasAttachment {
		where = append(where, `m.attachments IS NOT NULL`)
	}
	for _, t := range q.Terms {
		where = append(where, `lower(m.body) LIKE `+arg("%"+escapeLike(t)+"%"))
	}

	if parley.SearchIndexed(q.Terms) {
		ms, err := readMessages(ctx, s.pool, selectMessage+`WHERE `+strings.Join(where, " AND ")+`
			AND m.id < `+arg(before)+` ORDER BY m.id DESC LIMIT `+arg(limit+1), args...)
		if err != nil {
			return parley.SearchPage{}, err
		}
		return pageOf(ms, limit, 0), nil
	}

	// Only short terms: examine the newest SearchShortScan messages of the
	// caller's conversations below the cursor (the window), counting them
	// first to know whether older ones are left.
	windowOf := func(p func(any) string) string {
		return `SELECT id FROM messages WHERE conversation_id IN (` + memberOf(p) + `) AND id < ` + p(before) +
			` ORDER BY id DESC LIMIT ` + p(parley.SearchShortScan)
	}
	var (
		wargs  []any
		lowest int64
		n      int
	)
	count := windowOf(func(v any) string { wargs = append(wargs, v); return fmt.Sprintf("$%d", len(wargs)) })
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(min(id), 0), count(*) FROM (`+count+`) w`, wargs...).Scan(&lowest, &n); err != nil {
		return parley.SearchPage{}, mapError(err)
	}
	window := windowOf(arg)
	ms, err := readMessages(ctx, s.pool, selectMessage+`WHERE m.id IN (`+window+`) AND `+strings.Join(where, " AND ")+`
		ORDER BY m.id DESC LIMIT `+arg(limit+1), args...)
	if err != nil {
		return parley.SearchPage{}, err
	}
	if n < parley.SearchShortScan {
		lowest = 0 // the window reached the oldest message
	}
	return pageOf(ms, limit, lowest), nil
}

// escapeLike escapes LIKE's wildcards and its escape character.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
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

// buildSearchIndex builds messages_search with CREATE INDEX CONCURRENTLY
// when the migration left it to the store (a large table: see
// 00012_search.sql) or a build was interrupted (an invalid index). Sends
// go on meanwhile. One node builds it at a time (an advisory lock); it
// returns when done, when another node holds the lock, or when ctx ends.
func (s *Store) buildSearchIndex(ctx context.Context, log *slog.Logger) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	defer conn.Release()
	var valid *bool
	err = conn.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('messages_search')`).Scan(&valid)
	if err == nil && valid != nil && *valid {
		return
	} else if err != nil && err != pgx.ErrNoRows {
		if ctx.Err() == nil {
			log.Error("search index", "err", err)
		}
		return
	}
	var locked bool
	const key = "hashtext('parley/search_index/' || current_schema())"
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+key+`)`).Scan(&locked); err != nil || !locked {
		return
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
	start := time.Now()
	log.Info("search index: building (searches are slow until it is done)")
	var trgm string
	err = conn.QueryRow(ctx, `SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'`).Scan(&trgm)
	if err == nil {
		_, err = conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS messages_search`)
	}
	if err == nil {
		_, err = conn.Exec(ctx, `CREATE INDEX CONCURRENTLY messages_search ON messages USING gin (lower(body) `+
			pgx.Identifier{trgm}.Sanitize()+`.gin_trgm_ops) WHERE kind = 'text' AND deleted_at IS NULL`)
	}
	if err != nil {
		if ctx.Err() == nil {
			log.Error("search index", "err", err)
		}
		return
	}
	log.Info("search index: built", "took", time.Since(start).Round(time.Millisecond))
}
