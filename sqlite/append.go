package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"parley"
)

// # Appends
//
// An append is not a closure run in a savepoint like other writes: the
// writer runs appendRow for it, which is ONE statement per message, the
// INSERT, whose unique index on (conversation, sender, client_msg_id)
// answers a resend:
//
//   - seq and mod come from the conversation's head, which the writer keeps
//     in memory (wcache) and writes back once per conversation per batch
//     (flush), with the senders' marks;
//   - membership, the peer's accepting_messages and blocks and the sender's
//     names come from the writer's caches; a miss costs one indexed SELECT.
//
// A refused append writes nothing, so it needs no savepoint. flush runs
// before any other write of the batch and before the COMMIT, so every
// other statement sees the conversations as if each append had updated
// them itself.
//
// # The caches are exact
//
// wcache belongs to the writer goroutine. It is kept exact by the events
// that change what it holds, whoever causes them:
//
//   - a pre-update hook on the write connection sees every row the writer
//     inserts, updates or deletes, and drops the cached conversation head
//     (with its memberships) or user the row belongs to (for blocks: the
//     blocker, whose cached blocks it drops). Only the writer's
//     own statements that change nothing cached (the head flush, marks,
//     last seen) run quiet. A new write method therefore needs to do
//     nothing to keep the caches exact;
//   - a write rolled back to its savepoint, or a batch that fails, may have
//     filled the caches from rows it then undid: everything is dropped;
//   - another process writing the file (the sqlite3 shell, a restore) is
//     seen by PRAGMA data_version at the start of each batch, which drops
//     everything.

// maxCached bounds the conversations and users cached; past it the cache
// starts over.
const maxCached = 100_000

// head is what the writer keeps of a conversation.
type head struct {
	id       int64
	kind     string
	lo, hi   int64 // a direct conversation's users
	lastSeq  int64
	lastMod  int64
	activity int64 // last_activity, µs
	// textAt is the time of the batch's first text message, µs (0: none):
	// it starts the push decision's clock (notify_from) if not running.
	textAt  int64
	members map[int64]bool
	dirty   bool   // lastSeq, lastMod, activity or marks not yet written
	marks   []mark // senders whose marks move to seq at the next flush
	stale   bool   // dropped while dirty: forgotten once flushed
}

type mark struct{ user, seq int64 }

// cachedUser is what appends need of a user.
type cachedUser struct {
	ref       parley.UserRef
	accepting bool
	// blocks holds the ids the user blocks, read on first need (nil: not
	// read yet): only a direct chat's peer needs them.
	blocks map[int64]bool
}

type wcache struct {
	heads map[int64]*head
	users map[int64]*cachedUser
	dirty []*head
	// quiet is set while the writer runs a statement that changes nothing
	// cached: the hook ignores it.
	quiet bool
	// version is PRAGMA data_version at the last batch.
	version int64
	// memberConvCol is the index of members.conversation_id (-1: unknown,
	// then any members change drops every head).
	memberConvCol int
	// unindexed counts the text messages appended and not yet in the
	// search index (see indexNew); more than zero also when unknown. Read
	// by searches on other goroutines.
	unindexed atomic.Int64
}

func newCache() *wcache {
	return &wcache{heads: map[int64]*head{}, users: map[int64]*cachedUser{}, memberConvCol: -1}
}

// reset drops everything cached. Heads not yet flushed must not exist: a
// reset happens only when their transaction is gone.
func (c *wcache) reset() {
	clear(c.heads)
	clear(c.users)
	c.dirty = c.dirty[:0]
	// What was indexed may have been undone with the transaction.
	if c.unindexed.Load() == 0 {
		c.unindexed.Store(1)
	}
}

// hook is the write connection's pre-update hook (see "The caches are
// exact"). It runs on the writer goroutine, inside the statement.
func (c *wcache) hook(d sqlite.SQLitePreUpdateData) {
	if c.quiet {
		return
	}
	switch d.TableName {
	case "conversations":
		c.dropHead(d.OldRowID)
		c.dropHead(d.NewRowID)
	case "users":
		delete(c.users, d.OldRowID)
		delete(c.users, d.NewRowID)
	case "blocks":
		// blocker_id is the table's first column. Old and New fill the
		// slice they are given (not pointers in it).
		vals := make([]any, 1)
		if d.Op != sqlite3.SQLITE_INSERT {
			if d.Old(vals...) != nil {
				clear(c.users)
				return
			}
			delete(c.users, asInt(vals[0]))
		}
		if d.Op != sqlite3.SQLITE_DELETE {
			if d.New(vals...) != nil {
				clear(c.users)
				return
			}
			delete(c.users, asInt(vals[0]))
		}
	case "members":
		if c.memberConvCol < 0 {
			c.dropHeads()
			return
		}
		vals := make([]any, c.memberConvCol+1)
		if d.Op != sqlite3.SQLITE_INSERT {
			if d.Old(vals...) != nil {
				c.dropHeads()
				return
			}
			c.dropHead(asInt(vals[c.memberConvCol]))
		}
		if d.Op != sqlite3.SQLITE_DELETE {
			if d.New(vals...) != nil {
				c.dropHeads()
				return
			}
			c.dropHead(asInt(vals[c.memberConvCol]))
		}
	}
}

func asInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

// dropHead forgets a conversation's head. A dirty head holds what the
// batch did and nothing else has: it is written by flush, then forgotten.
func (c *wcache) dropHead(id int64) {
	if h := c.heads[id]; h != nil {
		if h.dirty {
			h.stale = true
		} else {
			delete(c.heads, id)
		}
	}
}

func (c *wcache) dropHeads() {
	for id := range c.heads {
		c.dropHead(id)
	}
}

// quietly runs fn with the hook ignoring its statements. Only for
// statements that change no cached column: marks, last seen, and the
// writer's own flush.
func (t *wtx) quietly(fn func() error) error {
	t.c.quiet = true
	defer func() { t.c.quiet = false }()
	return fn()
}

// head returns the conversation's head, reading it on a miss; ENOTFOUND if
// there is no such conversation.
func (t *wtx) head(ctx context.Context, id int64) (*head, error) {
	if h := t.c.heads[id]; h != nil {
		return h, nil
	}
	h := &head{id: id}
	var lo, hi sql.NullInt64
	err := t.QueryRowContext(ctx, `SELECT kind, direct_lo, direct_hi, last_seq, last_mod, last_activity
		FROM conversations WHERE id = ?`, id).Scan(&h.kind, &lo, &hi, &h.lastSeq, &h.lastMod, &h.activity)
	if err != nil {
		return nil, dbErr(err)
	}
	h.lo, h.hi = lo.Int64, hi.Int64
	if len(t.c.heads) >= maxCached {
		t.c.dropHeads()
	}
	t.c.heads[id] = h
	return h, nil
}

// isMember reports whether userID is a member of h's conversation.
func (t *wtx) isMember(ctx context.Context, h *head, userID int64) (bool, error) {
	if is, ok := h.members[userID]; ok {
		return is, nil
	}
	var is bool
	err := t.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?)`,
		h.id, userID).Scan(&is)
	if err != nil {
		return false, dbErr(err)
	}
	if h.members == nil {
		h.members = make(map[int64]bool)
	}
	h.members[userID] = is
	return is, nil
}

// user returns what appends need of a user; ENOTFOUND if there is none.
func (t *wtx) user(ctx context.Context, id int64) (*cachedUser, error) {
	if u := t.c.users[id]; u != nil {
		return u, nil
	}
	u := &cachedUser{ref: parley.UserRef{ID: id}}
	err := t.QueryRowContext(ctx, `SELECT username, display_name, accepting_messages FROM users WHERE id = ?`, id).
		Scan(&u.ref.Username, &u.ref.DisplayName, &u.accepting)
	if err != nil {
		return nil, dbErr(err)
	}
	if len(t.c.users) >= maxCached {
		clear(t.c.users)
	}
	t.c.users[id] = u
	return u, nil
}

// blocks reports whether u blocks userID, reading u's blocks on first need.
func (t *wtx) blocks(ctx context.Context, u *cachedUser, userID int64) (bool, error) {
	if u.blocks == nil {
		ids, err := collect(ctx, t, scanID, `SELECT blocked_id FROM blocks WHERE blocker_id = ?`, u.ref.ID)
		if err != nil {
			return false, err
		}
		u.blocks = make(map[int64]bool, len(ids))
		for _, id := range ids {
			u.blocks[id] = true
		}
	}
	return u.blocks[userID], nil
}

// checkNew refuses a message that no store would take.
func checkNew(nm *parley.NewMessage) error {
	switch {
	case nm.Kind == parley.MessageText && nm.SenderID == 0:
		return parley.Errorf(parley.EINVALID, "A text message needs a sender.")
	case nm.Kind == parley.MessageSystem && nm.System == nil:
		return parley.Errorf(parley.EINVALID, "A system message needs its event.")
	case nm.Kind != parley.MessageText && nm.Kind != parley.MessageSystem:
		return parley.Errorf(parley.EINVALID, "Unknown message kind.")
	}
	return nil
}

// appendRow appends one message: the checks from the caches, then the
// INSERT. The conversation's head moves in memory; flush writes it. It
// writes nothing when it refuses.
func appendRow(ctx context.Context, tx *wtx, nm *parley.NewMessage) (parley.Message, bool, error) {
	if err := checkNew(nm); err != nil {
		return parley.Message{}, false, err
	}
	h, err := tx.head(ctx, nm.ConversationID)
	if err != nil {
		return parley.Message{}, false, err
	}
	var sender *cachedUser
	if nm.SenderID != 0 {
		if sender, err = tx.user(ctx, nm.SenderID); err != nil {
			return parley.Message{}, false, err
		}
	}
	if nm.Kind == parley.MessageText {
		// Membership comes before the resend lookup: someone removed
		// learns nothing more, a resend of theirs included.
		is, err := tx.isMember(ctx, h, nm.SenderID)
		if err != nil {
			return parley.Message{}, false, err
		}
		if !is {
			return parley.Message{}, false, parley.ErrNotFound
		}
		if h.kind == parley.KindDirect {
			peer := h.lo
			if peer == nm.SenderID {
				peer = h.hi
			}
			p, err := tx.user(ctx, peer)
			if err != nil {
				return parley.Message{}, false, err
			}
			blocked := false
			if p.accepting {
				if blocked, err = tx.blocks(ctx, p, nm.SenderID); err != nil {
					return parley.Message{}, false, err
				}
			}
			// A block gets the same answer as not accepting: no hint.
			if !p.accepting || blocked {
				return original(ctx, tx, nm, notAccepting(p.ref.Username))
			}
		}
	}

	// Attachments: one indexed SELECT per upload, only when there are
	// some. Uploads attached already may be a resend's.
	ups, err := takeUploads(ctx, tx, *nm)
	if errors.Is(err, parley.ErrBadAttachments) {
		return original(ctx, tx, nm, err)
	} else if err != nil {
		return parley.Message{}, false, err
	}

	// A reply: the message it answers exists when its seq is the head's
	// or below (seqs have no gaps); its preview costs one indexed SELECT,
	// only for replies.
	var reply *parley.ReplyPreview
	if nm.ReplyTo != 0 {
		if nm.ReplyTo < 0 || nm.ReplyTo > h.lastSeq {
			return original(ctx, tx, nm, parley.ErrBadReplyTo)
		}
		orig, err := getMessage(ctx, tx, nm.ConversationID, nm.ReplyTo)
		if err != nil {
			return parley.Message{}, false, err
		}
		reply = parley.PreviewOf(&orig)
	}

	created := nm.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	created = tm(ts(created))
	var system sql.NullString
	var info *parley.SystemInfo
	if nm.System != nil {
		b, err := json.Marshal(nm.System)
		if err != nil {
			return parley.Message{}, false, err
		}
		system = sql.NullString{String: string(b), Valid: true}
		info = new(*nm.System)
	}
	seq, mod := h.lastSeq+1, h.lastMod+1
	res, err := tx.ExecContext(ctx, `
		INSERT INTO messages (conversation_id, seq, mod, sender_id, client_msg_id, kind, text, system, created_at, mentions,
			attachments, reply_to, forwarded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id, sender_id, client_msg_id) DO NOTHING`,
		nm.ConversationID, seq, mod, nullInt(nm.SenderID), nullStr(nm.ClientMsgID), nm.Kind, nm.Text, system, ts(created),
		mentionsJSON(nm.Mentions), nullStr(string(parley.AttachmentsJSON(ups))), nullInt(nm.ReplyTo), nm.Forwarded)
	if err != nil {
		return parley.Message{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return parley.Message{}, false, err
	}
	if n == 0 { // a resend
		return original(ctx, tx, nm, nil)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return parley.Message{}, false, err
	}
	// Rows of other tables that belong to the message: only when it has
	// some, so that a plain message is one statement. Past the INSERT, a
	// failure leaves a row the head does not know of: the batch fails.
	if err := setMentions(ctx, tx, nm.ConversationID, seq, nm.Mentions, false); err != nil {
		return parley.Message{}, false, &batchError{err}
	}
	if err := attach(ctx, tx, ups, nm.ConversationID, id); err != nil {
		return parley.Message{}, false, &batchError{err}
	}
	h.lastSeq, h.lastMod, h.activity = seq, mod, ts(created)
	if nm.Kind == parley.MessageText && nm.Text != "" {
		tx.c.unindexed.Add(1)
	}
	if nm.Kind == parley.MessageText && h.textAt == 0 {
		h.textAt = ts(created)
	}
	if nm.SenderID != 0 {
		h.marks = append(h.marks, mark{nm.SenderID, seq})
	}
	if !h.dirty {
		h.dirty = true
		tx.c.dirty = append(tx.c.dirty, h)
	}
	m := parley.Message{
		ID:             id,
		ConversationID: nm.ConversationID,
		Seq:            seq,
		Mod:            mod,
		SenderID:       nm.SenderID,
		ClientMsgID:    nm.ClientMsgID,
		Kind:           nm.Kind,
		Text:           nm.Text,
		System:         info,
		CreatedAt:      created,
		Mentions:       slices.Clone(nm.Mentions),
		Attachments:    parley.Attachments(ups),
		ReplyTo:        nm.ReplyTo,
		Reply:          reply,
		Forwarded:      nm.Forwarded,
	}
	if sender != nil {
		m.Sender = new(sender.ref)
	}
	return m, true, nil
}

// batchError is a failure that the rest of the batch cannot survive.
type batchError struct{ err error }

func (e *batchError) Error() string { return e.err.Error() }
func (e *batchError) Unwrap() error { return e.err }

func notAccepting(username string) error {
	return parley.Errorf(parley.ENOTACCEPTING, "%s is not accepting messages.", username)
}

// original returns the sender's earlier message with nm's client_msg_id
// (created=false), or refusal if there is none.
func original(ctx context.Context, tx *wtx, nm *parley.NewMessage, refusal error) (parley.Message, bool, error) {
	if nm.ClientMsgID != "" && nm.SenderID != 0 {
		m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+msgCols+` FROM `+msgFrom+`
			WHERE m.conversation_id = ? AND m.sender_id = ? AND m.client_msg_id = ?`,
			nm.ConversationID, nm.SenderID, nm.ClientMsgID))
		if err == nil {
			ms := []parley.Message{m}
			if err := fillReplies(ctx, tx, ms); err != nil {
				return parley.Message{}, false, err
			}
			return ms[0], false, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return parley.Message{}, false, err
		}
	}
	if refusal == nil { // the INSERT met a row this SELECT cannot see: a bug
		refusal = errors.New("sqlite: append refused as a resend, but no original found")
	}
	return parley.Message{}, false, refusal
}

// flush writes the heads the batch moved and their senders' marks, and
// indexes the new messages for search once there are indexBatch of them.
func (t *wtx) flush(ctx context.Context) error {
	if t.c.unindexed.Load() >= indexBatch {
		if err := t.indexNew(ctx); err != nil {
			return err
		}
	}
	if len(t.c.dirty) == 0 {
		return nil
	}
	return t.quietly(func() error {
		for _, h := range t.c.dirty {
			// notify_from: see head.textAt.
			if _, err := t.ExecContext(ctx, `UPDATE conversations SET last_seq = ?, last_mod = ?, last_activity = ?,
				notify_from = COALESCE(notify_from, ?) WHERE id = ?`,
				h.lastSeq, h.lastMod, h.activity, nullInt(h.textAt), h.id); err != nil {
				return err
			}
			for _, mk := range h.marks {
				if _, err := t.ExecContext(ctx, `UPDATE members SET delivered_seq = max(delivered_seq, ?1), read_seq = max(read_seq, ?1)
					WHERE conversation_id = ?2 AND user_id = ?3`, mk.seq, h.id, mk.user); err != nil {
					return err
				}
			}
			h.dirty, h.marks, h.textAt = false, h.marks[:0], 0
			if h.stale {
				delete(t.c.heads, h.id)
			}
		}
		clear(t.c.dirty)
		t.c.dirty = t.c.dirty[:0]
		return nil
	})
}

// indexBatch is how many new text messages wait for the search index
// before a batch's flush adds them; the writer adds fewer indexIdle after
// the first of them, and a search adds them first (SearchMessages).
// FTS5 writes an index segment per statement that changes it and merges
// segments as they pile up: one statement per batch of sends (about 40 to
// 2,000 messages under load) spent 12 % of the server's CPU merging in
// 'parley bench pairs' at 10,000 msg/s, pinned; few large segments are
// merged far less often.
const indexBatch = 2048

// indexIdle is how long after the first message waits for the search
// index the writer adds the waiting ones (between two batches), if no
// batch reached indexBatch first. A variable for tests.
var indexIdle = time.Second

// indexNew adds the text messages appended since the last time to the
// search index (messages_fts, see search.go) in one statement: those
// from search_backfill.done_to up. The triggers that replace an edited
// message's text in the index and remove a deleted one act only below
// done_to, so a message edited or deleted before it is indexed is
// indexed as it then stands (a deleted one has no text: not at all).
func (t *wtx) indexNew(ctx context.Context) error {
	var to int64
	if err := t.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM messages`).Scan(&to); err != nil {
		return &batchError{err}
	}
	_, err := t.ExecContext(ctx, `INSERT INTO messages_fts (rowid, text)
		SELECT id, text FROM messages WHERE id >= (SELECT done_to FROM search_backfill) AND kind = 'text' AND text != ''`)
	if err == nil {
		_, err = t.ExecContext(ctx, `UPDATE search_backfill SET done_to = ?1 WHERE done_to != ?1`, to)
	}
	if err != nil {
		return &batchError{err}
	}
	t.c.unindexed.Store(0)
	return nil
}

// appendTx appends a message inside a write (a system message recorded
// with a change of the conversation) and writes the head at once, so that
// the rest of the write sees it.
func appendTx(ctx context.Context, tx *wtx, nm parley.NewMessage) (parley.Message, bool, error) {
	m, created, err := appendRow(ctx, tx, &nm)
	if err != nil {
		return m, created, err
	}
	return m, created, tx.flush(ctx)
}

// checkVersion drops every cache if another connection has written the
// database since the last batch.
func (t *wtx) checkVersion(ctx context.Context) error {
	var v int64
	if err := t.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	if v != t.c.version {
		t.c.reset()
		t.c.version = v
	}
	return nil
}

// memberConvColumn finds members.conversation_id's position, for the hook.
func memberConvColumn(ctx context.Context, db *sql.DB) int {
	rows, err := db.QueryContext(ctx, `SELECT cid FROM pragma_table_info('members') WHERE name = 'conversation_id'`)
	if err != nil {
		return -1
	}
	defer rows.Close()
	col := -1
	if rows.Next() && rows.Scan(&col) != nil {
		col = -1
	}
	return col
}
