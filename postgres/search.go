package postgres

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
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
//
// The index finds every match of a term at once, in no useful order: for
// a common word that is tens of thousands of rows to fetch and sort for a
// page of 20 (hundreds of milliseconds on a million messages). So a page
// is first looked for by walking messages newest first and testing each
// (walk), which for a common word stops after a few thousand rows; the
// walk is bounded, and what it did not reach is asked of the index, which
// is fast for the rare terms that the walk would not find soon. Three
// walks:
//
//   - one conversation (the search is kept to it, or the caller is a
//     member of one): its messages by seq, through messages_seq_key. Within
//     a conversation id grows with seq (appendSQL assigns both under the
//     conversation's row lock), so seq order is id order.
//   - several, holding at least 1 in walkShare of all messages: all
//     messages by id (the primary key), keeping the caller's conversations.
//   - several (at most windowsMax) holding fewer: a window of each
//     conversation's newest messages, in one statement (windows); the
//     walk by id would mostly read others' messages.
//
// The walks by seq and id go in ranges of the key (id or seq, both
// without reuse, so a range holds at most its width of rows): walkFirst
// first (an eighth of it by seq), then as wide as the matches found so far
// say the page needs, up to walkMax in all. When the first range found
// nothing (a rare term) or the estimate is beyond walkMax, the index takes
// over below the range walked. The windows grow the same way. A walk tests
// its conditions inside a CASE, so that the planner neither serves the
// terms from the index nor tests them before the cheap conditions.

// Walk bounds (variables for tests; walkMax 0: no walk).
var (
	walkFirst int64 = 8192
	walkMax   int64 = 100_000
	walkShare int64 = 50
	// windowsMax is the most conversations searched by windows.
	windowsMax = 500
)

// SearchMessages returns a page of the messages q selects, newest first.
func (s *Store) SearchMessages(ctx context.Context, q parley.SearchQuery) (parley.SearchPage, error) {
	if len(q.Terms) == 0 {
		return parley.SearchPage{}, parley.FieldErrorf("q", "Say what to search for.")
	}
	sq := search{s: s, q: q, limit: q.Limit, before: q.BeforeID}
	if sq.limit <= 0 {
		sq.limit = parley.SearchLimitDefault
	}
	if sq.before <= 0 {
		sq.before = math.MaxInt64
	}
	// The conversations searched, how many messages they hold and the
	// newest message of all.
	var (
		b         params
		mine, top int64
	)
	scope := ``
	if q.ConversationID != 0 {
		scope = ` AND mb.conversation_id = ` + b.p(q.ConversationID)
	}
	err := s.pool.QueryRow(ctx, `SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}'), coalesce(array_agg(c.last_seq ORDER BY c.id), '{}'),
			(SELECT coalesce(max(id), 0) FROM messages)
		FROM members mb JOIN conversations c ON c.id = mb.conversation_id WHERE mb.user_id = `+b.p(q.UserID)+scope, b...).
		Scan(&sq.convs, &sq.sizes, &top)
	if err != nil {
		return parley.SearchPage{}, mapError(err)
	}
	if len(sq.convs) == 0 {
		return parley.SearchPage{Messages: []parley.Message{}}, nil
	}
	for _, n := range sq.sizes {
		mine += n
	}
	if len(sq.convs) == 1 {
		if sq.before == math.MaxInt64 {
			sq.seqBelow = sq.sizes[0] + 1
		} else {
			// The cursor is a message of the conversation (as the pages
			// give it), else a walk by seq cannot start from it.
			err := s.pool.QueryRow(ctx, `SELECT seq FROM messages WHERE id = $1 AND conversation_id = $2`, sq.before, sq.convs[0]).Scan(&sq.seqBelow)
			if err != nil && err != pgx.ErrNoRows {
				return parley.SearchPage{}, mapError(err)
			}
		}
	}
	stream := mine*walkShare >= top
	if !parley.SearchIndexed(q.Terms) {
		return sq.short(ctx, stream)
	}
	switch {
	case walkMax <= 0:
	case len(sq.convs) == 1 && sq.seqBelow > 0:
		return sq.walk(ctx, true, sq.seqBelow)
	case len(sq.convs) > 1 && stream:
		return sq.walk(ctx, false, min(sq.before, top+1))
	case len(sq.convs) <= windowsMax:
		return sq.windows(ctx)
	}
	ms, err := sq.indexed(ctx, sq.limit+1, nil)
	if err != nil {
		return parley.SearchPage{}, err
	}
	return pageOf(ms, sq.limit, 0), nil
}

// params are a statement's parameters.
type params []any

// p adds v and returns its placeholder.
func (b *params) p(v any) string {
	*b = append(*b, v)
	return fmt.Sprintf("$%d", len(*b))
}

// search is one page's query.
type search struct {
	s      *Store
	q      parley.SearchQuery
	convs  []int64 // searched, at least one
	sizes  []int64 // their last_seq
	before int64
	limit  int
	// seqBelow is, when one conversation is searched, the seq below which
	// the page is (from the cursor); 0 when not known.
	seqBelow int64
}

// cond is the condition on message m besides its conversation and the
// cursor: the filters, then the terms.
func (sq *search) cond(b *params) string {
	q := sq.q
	cond := []string{`m.kind = 'text'`, `m.deleted_at IS NULL`}
	if q.SenderID != 0 {
		cond = append(cond, `m.sender_id = `+b.p(q.SenderID))
	}
	if !q.After.IsZero() {
		cond = append(cond, `m.created_at >= `+b.p(q.After))
	}
	if !q.Before.IsZero() {
		cond = append(cond, `m.created_at < `+b.p(q.Before))
	}
	if q.HasAttachment {
		cond = append(cond, `m.attachments IS NOT NULL`)
	}
	for _, t := range q.Terms {
		cond = append(cond, `lower(m.body) LIKE `+b.p("%"+escapeLike(t)+"%"))
	}
	return strings.Join(cond, " AND ")
}

// mine is the condition that message m is of the conversations searched.
func (sq *search) mine(b *params) string {
	if len(sq.convs) == 1 {
		return `m.conversation_id = ` + b.p(sq.convs[0])
	}
	return `m.conversation_id = ANY(` + b.p(sq.convs) + `)`
}

// read reads the messages of ids, newest first.
func (sq *search) read(ctx context.Context, ids []int64) ([]parley.Message, error) {
	if len(ids) == 0 {
		return []parley.Message{}, nil
	}
	return readMessages(ctx, sq.s.pool, selectMessage+`WHERE m.id = ANY($1) ORDER BY m.id DESC`, ids)
}

// indexed reads up to n messages that match, newest first, below the
// cursor and, if extra is not nil, where it holds: through the trigram
// index.
func (sq *search) indexed(ctx context.Context, n int, extra func(*params) string) ([]parley.Message, error) {
	var b params
	query := selectMessage + `WHERE ` + sq.cond(&b) + ` AND ` + sq.mine(&b) + ` AND m.id < ` + b.p(sq.before)
	if extra != nil {
		query += ` AND ` + extra(&b)
	}
	query += ` ORDER BY m.id DESC LIMIT ` + b.p(n)
	// Planned for these terms each time (an unnamed statement): a cached
	// generic plan does not know a term is rare and may walk the primary
	// key instead (100 ms and more on a million messages).
	return readMessages(ctx, sq.s.pool, query, append([]any{pgx.QueryExecModeExec}, b...)...)
}

// walk looks for the page by walking down from below (exclusive) by seq
// in the one conversation searched (bySeq), or else by id, in ranges;
// what the walk does not reach, from the index.
func (sq *search) walk(ctx context.Context, bySeq bool, below int64) (parley.SearchPage, error) {
	need := sq.limit + 1
	key := `m.id`
	if bySeq {
		key = `m.seq`
	}
	first := max(walkFirst, 1)
	if bySeq {
		first = max(walkFirst/8, 1) // every message in the range is the caller's
	}
	var (
		ids        []int64
		walked, lo int64
		width      = first
		hi         = below
	)
	for {
		lo = max(hi-width, 1)
		var b params
		query := `SELECT m.id FROM messages m WHERE `
		if bySeq {
			query += `m.conversation_id = ` + b.p(sq.convs[0]) + ` AND `
		}
		query += key + ` >= ` + b.p(lo) + ` AND ` + key + ` < ` + b.p(hi) + `
			AND CASE WHEN ` + sq.mine(&b) + ` AND m.id < ` + b.p(sq.before) + ` AND ` + sq.cond(&b) + ` THEN true ELSE false END
			ORDER BY ` + key + ` DESC LIMIT ` + b.p(need-len(ids))
		rows, err := sq.s.pool.Query(ctx, query, b...)
		if err != nil {
			return parley.SearchPage{}, mapError(err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return parley.SearchPage{}, mapError(err)
		}
		ids = append(ids, found...)
		walked += hi - lo
		hi = lo
		if len(ids) >= need || lo <= 1 {
			break
		}
		// As wide as the matches so far say the page needs, in all; none
		// yet: a rare term, for the index.
		if len(ids) == 0 {
			break
		}
		est := walked * int64(need) / int64(len(ids))
		if est > walkMax {
			break
		}
		width = max(est-walked, first)
	}
	ms, err := sq.read(ctx, ids)
	if err != nil {
		return parley.SearchPage{}, err
	}
	if len(ms) < need && lo > 1 {
		// The index, below the range walked.
		rest, err := sq.indexed(ctx, need-len(ms), func(b *params) string { return key + ` < ` + b.p(lo) })
		if err != nil {
			return parley.SearchPage{}, err
		}
		ms = append(ms, rest...)
	}
	return pageOf(ms, sq.limit, 0), nil
}

// windows looks for the page in a window of each conversation searched:
// its newest messages below the cursor, in one statement (a LATERAL per
// conversation through messages_seq_key), shared by the conversations'
// sizes. The matches are complete down to the highest of the full
// windows' oldest ids (bound). The first windows hold walkFirst/8
// messages in all; if they found no match (a rare term) the index
// answers below bound; if fewer than a page, windows again as large as
// the matches say the page needs, up to walkMax, else the index below
// bound.
func (sq *search) windows(ctx context.Context) (parley.SearchPage, error) {
	need := sq.limit + 1
	var total int64
	for _, n := range sq.sizes {
		total += n
	}
	var (
		budget = max(walkFirst/8, 1)
		ids    []int64
		bound  int64
	)
	for {
		var err error
		if ids, bound, err = sq.window(ctx, budget, total); err != nil {
			return parley.SearchPage{}, err
		}
		if len(ids) >= need || bound == 0 || len(ids) == 0 {
			break
		}
		est := budget * int64(need) * 3 / (2 * int64(len(ids)))
		if est > walkMax || est <= budget {
			break
		}
		budget = est
	}
	ids = ids[:min(len(ids), need)]
	ms, err := sq.read(ctx, ids)
	if err != nil {
		return parley.SearchPage{}, err
	}
	if len(ms) < need && bound > 0 {
		rest, err := sq.indexed(ctx, need-len(ms), func(b *params) string { return `m.id < ` + b.p(bound) })
		if err != nil {
			return parley.SearchPage{}, err
		}
		ms = append(ms, rest...)
	}
	return pageOf(ms, sq.limit, 0), nil
}

// window reads windows of budget messages in all, shared by the
// conversations' sizes (of total), and returns the matches above bound,
// newest first, at most a page and one, and bound (0: every window
// reached the conversation's oldest message below the cursor).
func (sq *search) window(ctx context.Context, budget, total int64) ([]int64, int64, error) {
	need := sq.limit + 1
	rows := make([]int64, len(sq.sizes))
	for i, n := range sq.sizes {
		rows[i] = max(1, budget*n/max(total, 1))
	}
	var b params
	query := `SELECT w.lowest, w.full, coalesce(w.hits[1:` + b.p(need) + `], '{}') FROM unnest(` + b.p(sq.convs) + `::bigint[], ` + b.p(rows) + `::bigint[]) AS x(c, r)
		CROSS JOIN LATERAL (SELECT coalesce(min(id), 0) AS lowest, count(*) = x.r AS full,
				array_agg(id ORDER BY id DESC) FILTER (WHERE hit) AS hits
			FROM (SELECT m.id, CASE WHEN ` + sq.cond(&b) + ` THEN true ELSE false END AS hit
				FROM messages m WHERE m.conversation_id = x.c AND m.id < ` + b.p(sq.before) + `
				ORDER BY m.seq DESC LIMIT x.r) win) w`
	res, err := sq.s.pool.Query(ctx, query, b...)
	if err != nil {
		return nil, 0, mapError(err)
	}
	defer res.Close()
	var (
		bound int64
		ids   []int64
	)
	for res.Next() {
		var (
			lowest int64
			full   bool
			hits   []int64
		)
		if err := res.Scan(&lowest, &full, &hits); err != nil {
			return nil, 0, mapError(err)
		}
		if full {
			bound = max(bound, lowest)
		}
		ids = append(ids, hits...)
	}
	if err := res.Err(); err != nil {
		return nil, 0, mapError(err)
	}
	// Below bound a window may have missed matches: keep what is above.
	// Each window gave its newest matches, at most a page and one, so the
	// newest page and one above bound are among them.
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id < bound })
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Compare(b, a) })
	return ids[:min(len(ids), need)], bound, nil
}

// short answers a query of only short terms: it examines the newest
// SearchShortScan messages of the conversations searched below the
// cursor (the window). stream: walk all messages by id (the caller's
// conversations hold many of them), not the conversations' index.
func (sq *search) short(ctx context.Context, stream bool) (parley.SearchPage, error) {
	bySeq := len(sq.convs) == 1 && sq.seqBelow > 0
	window := func(b *params) string {
		const cols = `SELECT id, seq, conversation_id, kind, deleted_at, sender_id, created_at, attachments, body FROM messages m WHERE `
		switch {
		case bySeq:
			return cols + sq.mine(b) + ` AND m.seq < ` + b.p(sq.seqBelow) + ` AND m.id < ` + b.p(sq.before) + `
				ORDER BY m.seq DESC LIMIT ` + b.p(parley.SearchShortScan)
		case stream:
			// conversation_id + 0: not through an index of conversation_id.
			return cols + `m.conversation_id + 0 = ANY(` + b.p(sq.convs) + `) AND m.id < ` + b.p(sq.before) + `
				ORDER BY m.id DESC LIMIT ` + b.p(parley.SearchShortScan)
		}
		return cols + sq.mine(b) + ` AND m.id < ` + b.p(sq.before) + ` ORDER BY m.id DESC LIMIT ` + b.p(parley.SearchShortScan)
	}
	need := sq.limit + 1
	order := `m.id`
	if bySeq {
		order = `m.seq` // the window's order, the same as by id
	}
	var b params
	rows, err := sq.s.pool.Query(ctx, `SELECT m.id FROM (`+window(&b)+`) m WHERE CASE WHEN `+sq.cond(&b)+` THEN true ELSE false END
		ORDER BY `+order+` DESC LIMIT `+b.p(need), b...)
	if err != nil {
		return parley.SearchPage{}, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return parley.SearchPage{}, mapError(err)
	}
	var lowest int64
	if len(ids) < need {
		// Examined the whole window: the next page starts below it,
		// unless it reached the oldest message.
		var (
			wb params
			n  int
		)
		if err := sq.s.pool.QueryRow(ctx, `SELECT coalesce(min(id), 0), count(*) FROM (`+window(&wb)+`) w`, wb...).Scan(&lowest, &n); err != nil {
			return parley.SearchPage{}, mapError(err)
		}
		if n < parley.SearchShortScan {
			lowest = 0
		}
	}
	ms, err := sq.read(ctx, ids)
	if err != nil {
		return parley.SearchPage{}, err
	}
	return pageOf(ms, sq.limit, lowest), nil
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
