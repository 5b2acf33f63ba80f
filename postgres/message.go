package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

// messageColumns selects a message from alias m and its sender from alias u
// (users, left-joined on the sender). Every column may be NULL, so that it
// also serves outer joins; scanMessage reports a NULL message as ID 0.
func messageColumns(m, u string) string {
	return fmt.Sprintf(`coalesce(%[1]s.id, 0), coalesce(%[1]s.conversation_id, 0), coalesce(%[1]s.seq, 0),
		coalesce(%[1]s.mod, 0), coalesce(%[1]s.sender_id, 0), coalesce(%[1]s.client_msg_id, ''),
		coalesce(%[1]s.kind, ''), coalesce(%[1]s.body, ''), %[1]s.system,
		%[1]s.created_at, %[1]s.edited_at, %[1]s.deleted_at, %[2]s.username, %[2]s.display_name, %[1]s.mentions,
		%[1]s.attachments, coalesce(%[1]s.reply_to, 0), %[1]s.reactions, coalesce(%[1]s.forwarded, false)`, m, u)
}

// selectMessage reads messages as m with senders as u.
var selectMessage = `SELECT ` + messageColumns("m", "u") + ` FROM messages m LEFT JOIN users u ON u.id = m.sender_id `

// messageScan holds the destinations of messageColumns.
type messageScan struct {
	msg         parley.Message
	system      []byte
	attachments []byte
	reactions   []byte
	createdAt   *time.Time
	username    *string
	displayName *string
}

func (s *messageScan) dest() []any {
	m := &s.msg
	return []any{&m.ID, &m.ConversationID, &m.Seq, &m.Mod, &m.SenderID, &m.ClientMsgID,
		&m.Kind, &m.Text, &s.system, &s.createdAt, &m.EditedAt, &m.DeletedAt, &s.username, &s.displayName, &m.Mentions,
		&s.attachments, &m.ReplyTo, &s.reactions, &m.Forwarded}
}

// message finishes a scanned message: times in UTC, System decoded, Sender
// filled.
func (s *messageScan) message() (parley.Message, error) {
	m := s.msg
	if m.ID == 0 {
		return parley.Message{}, nil
	}
	if s.createdAt != nil {
		m.CreatedAt = utc(*s.createdAt)
	}
	m.EditedAt, m.DeletedAt = utcp(m.EditedAt), utcp(m.DeletedAt)
	if s.system != nil {
		m.System = new(parley.SystemInfo)
		if err := json.Unmarshal(s.system, m.System); err != nil {
			return parley.Message{}, fmt.Errorf("postgres: message %d: system: %w", m.ID, err)
		}
	}
	if s.attachments != nil {
		if err := json.Unmarshal(s.attachments, &m.Attachments); err != nil {
			return parley.Message{}, fmt.Errorf("postgres: message %d: attachments: %w", m.ID, err)
		}
	}
	if s.reactions != nil {
		if err := json.Unmarshal(s.reactions, &m.Reactions); err != nil {
			return parley.Message{}, fmt.Errorf("postgres: message %d: reactions: %w", m.ID, err)
		}
	}
	if m.SenderID != 0 && s.username != nil {
		m.Sender = &parley.UserRef{ID: m.SenderID, Username: *s.username, DisplayName: deref(s.displayName)}
	}
	return m, nil
}

func scanMessage(row pgx.Row) (parley.Message, error) {
	var s messageScan
	if err := row.Scan(s.dest()...); err != nil {
		return parley.Message{}, err
	}
	return s.message()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// appendSQL appends a message to conversation $1 unless it may not be:
// unless $8 (a system message) the sender $2 must be a member and, in a
// direct conversation, the other member must accept messages; and the
// sender must not have sent client_msg_id $3 in the conversation already. It
// advances last_seq and last_mod (which locks the conversation's row, if the
// transaction does not hold the lock already), starts the push decision's
// clock (notify_from) for a text message if it is not running, stores the
// message with its mentions $9 (and their rows in mentions) and its
// attachments (uploads $10, which must all be the sender's and not
// attached, else it is refused; $11 their list as the message shows it)
// and the seq it replies to ($12, 0: none; a message of the conversation,
// else it is refused) and whether it is forwarded ($13), moves the sender's marks to it, and returns its id,
// seq, mod and sender's names, and the message it replies to; no row if it
// was refused.
//
// The checks read this statement's snapshot, so the caller must hold the
// conversation's lock when the statement starts (lockSQL) for them to see
// every committed append.
var appendSQL = `
WITH c AS (
	UPDATE conversations
	SET last_seq = last_seq + 1, last_mod = last_mod + 1, last_activity = $7,
		notify_from = CASE WHEN $4::text = 'text' THEN coalesce(notify_from, $7) ELSE notify_from END
	WHERE id = $1
		AND ($8::boolean OR EXISTS (SELECT FROM members WHERE conversation_id = $1 AND user_id = $2))
		AND ($8::boolean OR kind <> 'direct' OR EXISTS (SELECT FROM users
			WHERE id = CASE WHEN direct_lo = $2 THEN direct_hi ELSE direct_lo END AND accepting_messages
				AND NOT EXISTS (SELECT FROM blocks WHERE blocker_id = users.id AND blocked_id = $2)))
		AND NOT EXISTS (SELECT FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_msg_id = $3)
		AND coalesce(cardinality($10::bigint[]), 0) = (SELECT count(*) FROM uploads
			WHERE id = ANY($10::bigint[]) AND owner_id = $2 AND message_id IS NULL)
		AND $12::bigint >= 0 AND $12::bigint <= last_seq
	RETURNING last_seq, last_mod
), m AS (
	INSERT INTO messages (conversation_id, seq, mod, sender_id, client_msg_id, kind, body, system, created_at, mentions,
		attachments, reply_to, forwarded)
	SELECT $1, c.last_seq, c.last_mod, nullif($2::bigint, 0), nullif($3::text, ''), $4::text, $5::text, $6::jsonb, $7::timestamptz,
		$9::bigint[], $11::jsonb, nullif($12::bigint, 0), $13::boolean
	FROM c
	RETURNING id, seq, mod, sender_id
), att AS (
	UPDATE uploads SET message_id = m.id, conversation_id = $1
	FROM m WHERE uploads.id = ANY($10::bigint[])
), mn AS (
	INSERT INTO mentions (user_id, conversation_id, seq)
	SELECT u, $1, m.seq FROM m, unnest($9::bigint[]) AS u
	ON CONFLICT DO NOTHING
), marks AS (
	UPDATE members
	SET delivered_seq = greatest(delivered_seq, m.seq), read_seq = greatest(read_seq, m.seq)
	FROM m
	WHERE members.conversation_id = $1 AND members.user_id = $2
)
SELECT m.id, m.seq, m.mod, u.username, u.display_name, ` + messageColumns("r", "ru") + `
FROM m LEFT JOIN users u ON u.id = m.sender_id
	LEFT JOIN messages r ON r.conversation_id = $1 AND r.seq = nullif($12::bigint, 0)
	LEFT JOIN users ru ON ru.id = r.sender_id`

// lockSQL locks a conversation's row for a change to its history. NO KEY
// UPDATE is the lock UPDATE takes: it does not block foreign key checks.
const lockSQL = `SELECT kind, member_count FROM conversations WHERE id = $1 FOR NO KEY UPDATE`

// lockUploadsSQL locks the uploads a batch of appends attaches, so that
// each append's check sees whether another took them.
const lockUploadsSQL = `SELECT FROM uploads WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`

func appendArgs(nm parley.NewMessage, system []byte, anySender bool, ups []parley.Upload) []any {
	var attach []byte
	if len(ups) > 0 {
		attach = parley.AttachmentsJSON(ups)
	}
	return []any{nm.ConversationID, nm.SenderID, nm.ClientMsgID, nm.Kind, nm.Text, system, nm.CreatedAt, anySender,
		mentionsArg(nm.Mentions), mentionsArg(nm.Attachments), attach, nm.ReplyTo, nm.Forwarded}
}

// mentionsArg is a message's mentions as the mentions column stores them
// (NULL: none).
func mentionsArg(ids []int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// scanAppended reads appendSQL's row into the message being appended.
func scanAppended(row pgx.Row, nm parley.NewMessage, ups []parley.Upload) (parley.Message, error) {
	var (
		m                     parley.Message
		username, displayName *string
		orig                  messageScan
	)
	if err := row.Scan(append([]any{&m.ID, &m.Seq, &m.Mod, &username, &displayName}, orig.dest()...)...); err != nil {
		return parley.Message{}, err
	}
	if nm.ReplyTo != 0 {
		o, err := orig.message()
		if err != nil {
			return parley.Message{}, err
		}
		m.ReplyTo, m.Reply = nm.ReplyTo, parley.PreviewOf(&o)
	}
	m.ConversationID, m.SenderID, m.ClientMsgID = nm.ConversationID, nm.SenderID, nm.ClientMsgID
	m.Kind, m.Text, m.CreatedAt = nm.Kind, nm.Text, nm.CreatedAt
	m.Forwarded = nm.Forwarded
	m.Mentions = slices.Clone(mentionsArg(nm.Mentions))
	m.Attachments = parley.Attachments(ups)
	if nm.System != nil {
		sys := *nm.System
		m.System = &sys
	}
	if m.SenderID != 0 && username != nil {
		m.Sender = &parley.UserRef{ID: m.SenderID, Username: *username, DisplayName: deref(displayName)}
	}
	return m, nil
}

// prepareNew checks a new message's kind and normalizes its time, and
// encodes its system info.
func prepareNew(nm *parley.NewMessage) ([]byte, error) {
	if nm.Kind != parley.MessageText && nm.Kind != parley.MessageSystem {
		return nil, parley.Errorf(parley.EINVALID, "Unknown message kind %q.", nm.Kind)
	}
	if nm.CreatedAt.IsZero() {
		nm.CreatedAt = time.Now()
	}
	nm.CreatedAt = utc(nm.CreatedAt)
	if nm.System == nil {
		return nil, nil
	}
	return json.Marshal(nm.System)
}

// AppendMessage stores a message with the conversation's next seq. Appends
// that arrive together are committed together (see appender); each returns
// after the commit.
//
// A resent ClientMsgID (also one sent concurrently: the second append waits
// for the first's lock and then sees its message) stores nothing and returns
// the original with created=false, if the sender is still a member
// (ENOTFOUND otherwise, as for any append of theirs).
func (s *Store) AppendMessage(ctx context.Context, nm parley.NewMessage) (parley.Message, bool, error) {
	system, err := prepareNew(&nm)
	if err != nil {
		return parley.Message{}, false, err
	}
	op := &appendOp{ctx: ctx, nm: nm, system: system}
	op.ups, err = s.uploadsFor(ctx, nm)
	if errors.Is(err, parley.ErrBadAttachments) {
		// A resend (its uploads are attached: to the original), or a
		// non-member's message (not found, as any of theirs).
		return s.appender.original(op)
	} else if err != nil {
		return parley.Message{}, false, err
	}
	return s.appender.append(op)
}

// uploadsFor reads the uploads a new message attaches, in order, refusing
// at once those that are not the sender's or are attached already (the
// append checks again under its locks). Nothing is read for a message
// without attachments.
func (s *Store) uploadsFor(ctx context.Context, nm parley.NewMessage) ([]parley.Upload, error) {
	if len(nm.Attachments) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ANY($1)`, nm.Attachments)
	if err != nil {
		return nil, mapError(err)
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Upload, error) { return scanUpload(row) })
	if err != nil {
		return nil, mapError(err)
	}
	ups := make([]parley.Upload, 0, len(nm.Attachments))
	for _, id := range nm.Attachments {
		i := slices.IndexFunc(got, func(u parley.Upload) bool { return u.ID == id })
		if i < 0 || got[i].OwnerID != nm.SenderID || got[i].MessageID != 0 {
			return nil, parley.ErrBadAttachments
		}
		ups = append(ups, got[i])
	}
	return ups, nil
}

// appendSystem appends a system message by actor (0 for none) in tx, which
// must hold the conversation's lock.
func appendSystem(ctx context.Context, tx pgx.Tx, conversationID, actor int64, info parley.SystemInfo, at time.Time) (parley.Message, error) {
	nm := parley.NewMessage{
		ConversationID: conversationID,
		SenderID:       actor,
		Kind:           parley.MessageSystem,
		System:         &info,
		CreatedAt:      at,
	}
	system, err := prepareNew(&nm)
	if err != nil {
		return parley.Message{}, err
	}
	return scanAppended(tx.QueryRow(ctx, appendSQL, appendArgs(nm, system, true, nil)...), nm, nil)
}

// Messages returns a page of history in ascending seq order. A Limit of 0
// or less means PageSizeDefault. Callers ask for one message more than a
// page (up to PageSizeMax+1; around a seq, one more on each side) to
// learn whether more exist, so a cap here
// must not be below that: capping at PageSizeMax made a full page always
// say has_more=false, and clients stopped paging 200 messages short.
func (s *Store) Messages(ctx context.Context, conversationID int64, q parley.MessageQuery) ([]parley.Message, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	limit = min(limit, max(parley.PageSizeMax, parley.SyncPageSize)+2)
	if q.AroundSeq > 0 {
		return s.messagesAround(ctx, conversationID, q.AroundSeq, limit)
	}
	if q.BeforeSeq > 0 {
		msgs, err := readMessages(ctx, s.pool, selectMessage+`
			WHERE m.conversation_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`,
			conversationID, q.BeforeSeq, limit)
		slices.Reverse(msgs)
		return msgs, err
	}
	return readMessages(ctx, s.pool, selectMessage+`
		WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`,
		conversationID, q.AfterSeq, limit)
}

// messagesAround reads the page of history around a seq
// (MessageQuery.AroundSeq).
func (s *Store) messagesAround(ctx context.Context, conversationID, seq int64, limit int) ([]parley.Message, error) {
	before := limit / 2
	return readMessages(ctx, s.pool, `
		(`+selectMessage+`WHERE m.conversation_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3)
		UNION ALL
		(`+selectMessage+`WHERE m.conversation_id = $1 AND m.seq >= $2 ORDER BY m.seq LIMIT $4)
		ORDER BY 3`, conversationID, seq, before, limit-before)
}

func collectMessages(rows pgx.Rows) ([]parley.Message, error) {
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Message, error) { return scanMessage(row) })
	return msgs, mapError(err)
}

// readMessages runs a query of messages (selectMessage) and sets the
// previews of the replies among them.
func readMessages(ctx context.Context, q querier, query string, args ...any) ([]parley.Message, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, mapError(err)
	}
	msgs, err := collectMessages(rows)
	if err != nil {
		return nil, err
	}
	return msgs, fillReplies(ctx, q, msgs)
}

// fillReplies sets the Reply of the messages that answer another: one
// query per conversation, only when some do.
func fillReplies(ctx context.Context, q querier, msgs []parley.Message) error {
	seqs := map[int64][]int64{}
	for _, m := range msgs {
		if m.ReplyTo != 0 {
			seqs[m.ConversationID] = append(seqs[m.ConversationID], m.ReplyTo)
		}
	}
	for conv, list := range seqs {
		rows, err := q.Query(ctx, selectMessage+`WHERE m.conversation_id = $1 AND m.seq = ANY($2)`, conv, list)
		if err != nil {
			return mapError(err)
		}
		orig, err := collectMessages(rows)
		if err != nil {
			return err
		}
		previews := make(map[int64]*parley.ReplyPreview, len(orig))
		for i := range orig {
			previews[orig[i].Seq] = parley.PreviewOf(&orig[i])
		}
		for i := range msgs {
			if msgs[i].ConversationID == conv && msgs[i].ReplyTo != 0 {
				msgs[i].Reply = previews[msgs[i].ReplyTo]
			}
		}
	}
	return nil
}

// Message returns one message by seq.
func (s *Store) Message(ctx context.Context, conversationID, seq int64) (parley.Message, error) {
	return message(ctx, s.pool, conversationID, seq)
}

func message(ctx context.Context, q querier, conversationID, seq int64) (parley.Message, error) {
	m, err := scanMessage(q.QueryRow(ctx, selectMessage+`WHERE m.conversation_id = $1 AND m.seq = $2`, conversationID, seq))
	if err != nil {
		return m, mapError(err)
	}
	ms := []parley.Message{m}
	err = fillReplies(ctx, q, ms)
	return ms[0], err
}

// Changes returns the edited or deleted messages with seq <= maxSeq whose
// mod is above afterMod, in mod order, at most limit (PageSizeDefault if
// limit <= 0).
func (s *Store) Changes(ctx context.Context, conversationID, afterMod, maxSeq int64, limit int) ([]parley.Message, error) {
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	return readMessages(ctx, s.pool, selectMessage+`
		WHERE m.conversation_id = $1 AND m.mod > $2 AND m.seq <= $3
			AND (m.edited_at IS NOT NULL OR m.deleted_at IS NOT NULL OR m.reactions IS NOT NULL)
		ORDER BY m.mod LIMIT $4`,
		conversationID, afterMod, maxSeq, limit)
}

// changeMessage locks the conversation, loads message seq and lets check
// decide: an error refuses the change, false leaves the message as it is,
// true applies set (SQL assignments with $3, $4 as args) with a new mod.
func (s *Store) changeMessage(ctx context.Context, conversationID, seq int64, check func(parley.Message) (bool, error), set string, args ...any) (parley.Message, error) {
	var out parley.Message
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			kind        string
			memberCount int
		)
		if err := tx.QueryRow(ctx, lockSQL, conversationID).Scan(&kind, &memberCount); err != nil {
			return err
		}
		m, err := message(ctx, tx, conversationID, seq)
		if err != nil {
			return err
		}
		change, err := check(m)
		if err != nil || !change {
			out = m
			return err
		}
		if _, err := tx.Exec(ctx, `
			WITH c AS (UPDATE conversations SET last_mod = last_mod + 1 WHERE id = $1 RETURNING last_mod)
			UPDATE messages SET mod = c.last_mod, `+set+`
			FROM c WHERE conversation_id = $1 AND seq = $2`,
			append([]any{conversationID, seq}, args...)...); err != nil {
			return err
		}
		// The mention rows follow the message's (new) mentions.
		if _, err := tx.Exec(ctx, `
			WITH d AS (DELETE FROM mentions WHERE conversation_id = $1 AND seq = $2)
			INSERT INTO mentions (user_id, conversation_id, seq)
			SELECT u, $1, $2 FROM messages, unnest(mentions) AS u WHERE conversation_id = $1 AND seq = $2
			ON CONFLICT DO NOTHING`, conversationID, seq); err != nil {
			return err
		}
		// And the reactions: a deleted message has none.
		if _, err := tx.Exec(ctx, `DELETE FROM reactions r USING messages m
			WHERE r.conversation_id = $1 AND r.seq = $2 AND m.conversation_id = $1 AND m.seq = $2 AND m.deleted_at IS NOT NULL`,
			conversationID, seq); err != nil {
			return err
		}
		// So do the uploads: a message that lost its attachments (a
		// deleted one) loses its uploads, and their blobs a reference.
		if len(m.Attachments) > 0 {
			if _, err := deleteUploads(ctx, tx, `
				DELETE FROM uploads u USING messages m
				WHERE m.conversation_id = $1 AND m.seq = $2 AND m.attachments IS NULL AND u.message_id = m.id
				RETURNING u.blob_key, coalesce(u.thumb_key, '')`, conversationID, seq); err != nil {
				return err
			}
		}
		out, err = message(ctx, tx, conversationID, seq)
		return err
	})
	if err != nil {
		return parley.Message{}, err
	}
	return out, nil
}

// EditMessage replaces the text of a text message.
func (s *Store) EditMessage(ctx context.Context, conversationID, seq, editor int64, text string, mentions []int64, now time.Time) (parley.Message, error) {
	return s.changeMessage(ctx, conversationID, seq, func(m parley.Message) (bool, error) {
		switch {
		case m.Kind != parley.MessageText:
			return false, parley.Errorf(parley.EINVALID, "A system message cannot be edited.")
		case m.SenderID != editor:
			return false, parley.Errorf(parley.EFORBIDDEN, "Only the sender may edit a message.")
		case m.DeletedAt != nil:
			return false, parley.Errorf(parley.EINVALID, "A deleted message cannot be edited.")
		}
		return true, nil
	}, `body = $3, edited_at = $4, mentions = $5`, text, utc(now), mentionsArg(mentions))
}

// DeleteMessage turns a text message into a tombstone.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, seq, actor int64, byModerator bool, now time.Time) (parley.Message, error) {
	return s.changeMessage(ctx, conversationID, seq, func(m parley.Message) (bool, error) {
		switch {
		case m.Kind != parley.MessageText:
			return false, parley.Errorf(parley.EINVALID, "A system message cannot be deleted.")
		case m.SenderID != actor && !byModerator:
			return false, parley.Errorf(parley.EFORBIDDEN, "Only the sender or a moderator may delete a message.")
		}
		return m.DeletedAt == nil, nil
	}, `body = '', deleted_at = $3, mentions = NULL, attachments = NULL, reply_to = NULL, reactions = NULL`, utc(now))
}

// SetMarks moves a member's marks forward, clamped to last_seq; read
// implies delivered. Concurrent calls never move a mark back: each UPDATE
// computes greatest(current, new) on the row version it locked.
//
// In conversations of at most stepsUpTo members it sets step_minute to
// at's minute, and the trigger members_mark_steps (migration 00017)
// records each mark that moved in mark_steps, comparing the row before and
// after: part of the same statement, on exactly the marks it changed.
func (s *Store) SetMarks(ctx context.Context, conversationID, userID, deliveredSeq, readSeq int64, at time.Time, stepsUpTo int) (parley.Member, bool, error) {
	m, err := scanMember(s.pool.QueryRow(ctx, `
		WITH upd AS (
			UPDATE members m SET
				read_seq = greatest(m.read_seq, least($4::bigint, c.last_seq)),
				delivered_seq = greatest(m.delivered_seq, least(greatest($3::bigint, $4::bigint), c.last_seq)),
				step_minute = CASE WHEN c.member_count <= $6 THEN $5::bigint END
			FROM conversations c
			WHERE m.conversation_id = $1 AND m.user_id = $2 AND c.id = m.conversation_id
				AND (least($4::bigint, c.last_seq) > m.read_seq
					OR least(greatest($3::bigint, $4::bigint), c.last_seq) > m.delivered_seq)
			RETURNING m.*
		)
		SELECT `+memberColumns+` FROM upd m JOIN users u ON u.id = m.user_id`,
		conversationID, userID, deliveredSeq, readSeq, at.Unix()/60, stepsUpTo))
	if err == nil {
		return m, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return parley.Member{}, false, mapError(err)
	}
	// Nothing moved, or not a member.
	m, err = s.Member(ctx, conversationID, userID)
	return m, false, err
}

// MarkTimes returns when each current member's marks first reached seq:
// the first minute with a step at seq or beyond, looked for from
// parley.MarkTimesSkew before sent.
func (s *Store) MarkTimes(ctx context.Context, conversationID, seq int64, sent time.Time) ([]parley.MarkTime, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT user_id, d, r FROM (
			SELECT mb.user_id,
				(SELECT minute FROM mark_steps s WHERE s.conversation_id = mb.conversation_id AND s.user_id = mb.user_id
					AND s.kind = 0 AND s.minute >= $3 AND s.seq >= $2 ORDER BY s.minute LIMIT 1) AS d,
				(SELECT minute FROM mark_steps s WHERE s.conversation_id = mb.conversation_id AND s.user_id = mb.user_id
					AND s.kind = 1 AND s.minute >= $3 AND s.seq >= $2 ORDER BY s.minute LIMIT 1) AS r
			FROM members mb WHERE mb.conversation_id = $1 AND mb.delivered_seq >= $2) t
		WHERE d IS NOT NULL OR r IS NOT NULL`, conversationID, seq, sent.Add(-parley.MarkTimesSkew).Unix()/60)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.MarkTime, error) {
		var (
			t    parley.MarkTime
			d, e *int64
		)
		err := r.Scan(&t.UserID, &d, &e)
		if d != nil {
			t.DeliveredAt = parley.StepTime(*d, true, sent)
		}
		if e != nil {
			t.ReadAt = parley.StepTime(*e, true, sent)
		}
		return t, err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

// React adds or removes a person's reaction to a message, under the
// conversation's lock (so that the limits hold against concurrent
// reactions).
func (s *Store) React(ctx context.Context, conversationID, seq, userID int64, emoji string, on bool, now time.Time) (parley.Message, bool, error) {
	var (
		out     parley.Message
		changed bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, lockSQL, conversationID).Scan(new(string), new(int)); err != nil {
			return err
		}
		if _, err := member(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		m, err := message(ctx, tx, conversationID, seq)
		if err != nil {
			return err
		}
		out = m
		if m.Kind != parley.MessageText || m.DeletedAt != nil {
			return parley.ErrReactionTarget
		}
		if on {
			var distinct, mine, present, there int
			err := tx.QueryRow(ctx, `SELECT count(DISTINCT emoji), count(*) FILTER (WHERE user_id = $1),
					count(*) FILTER (WHERE emoji = $2), count(*) FILTER (WHERE user_id = $1 AND emoji = $2)
				FROM reactions WHERE conversation_id = $3 AND seq = $4`, userID, emoji, conversationID, seq).
				Scan(&distinct, &mine, &present, &there)
			if err != nil {
				return err
			}
			switch {
			case there > 0:
				return nil
			case mine >= parley.ReactionsPerPerson:
				return parley.ErrTooManyOwnReactions
			case present == 0 && distinct >= parley.ReactionsPerMessage:
				return parley.ErrTooManyReactions
			}
			if _, err := tx.Exec(ctx, `INSERT INTO reactions (conversation_id, seq, user_id, emoji, created_at)
				VALUES ($1, $2, $3, $4, $5)`, conversationID, seq, userID, emoji, utc(now)); err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, `DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4`,
				conversationID, seq, userID, emoji)
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
		}
		changed = true
		rows, err := tx.Query(ctx, `SELECT emoji, user_id FROM reactions WHERE conversation_id = $1 AND seq = $2
			ORDER BY created_at, user_id, emoji`, conversationID, seq)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (r parley.ReactionOf, err error) {
			return r, row.Scan(&r.Emoji, &r.UserID)
		})
		if err != nil {
			return err
		}
		m.Reactions = parley.SummarizeReactions(list)
		b, err := json.Marshal(m.Reactions)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			WITH c AS (UPDATE conversations SET last_mod = last_mod + 1 WHERE id = $1 RETURNING last_mod)
			UPDATE messages SET mod = c.last_mod, reactions = $3
			FROM c WHERE conversation_id = $1 AND seq = $2 RETURNING messages.mod`, conversationID, seq, b).Scan(&m.Mod); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return parley.Message{}, false, err
	}
	return out, changed, nil
}
