package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"parley"
)

// msgCols and msgFrom read a message with its sender's names.
const (
	msgCols = `m.id, m.conversation_id, m.seq, m.mod, m.sender_id, m.client_msg_id, m.kind, m.text, m.system,
		m.created_at, m.edited_at, m.deleted_at, u.username, u.display_name, m.mentions, m.attachments, m.reply_to, m.reactions,
		m.forwarded`
	msgFrom = `messages m LEFT JOIN users u ON u.id = m.sender_id`
)

// msgRow holds msgCols. Every column is nullable so that a LEFT JOIN that
// found no message scans too (ok reports whether one was found).
type msgRow struct {
	id, conv, seq, mod, sender        sql.NullInt64
	clientMsgID, kind, text, system   sql.NullString
	created, edited, deleted          sql.NullInt64
	senderUsername, senderDisplayName sql.NullString
	mentions, attachments             sql.NullString
	replyTo                           sql.NullInt64
	reactions                         sql.NullString
	forwarded                         sql.NullBool
}

func (r *msgRow) dest() []any {
	return []any{&r.id, &r.conv, &r.seq, &r.mod, &r.sender, &r.clientMsgID, &r.kind, &r.text, &r.system,
		&r.created, &r.edited, &r.deleted, &r.senderUsername, &r.senderDisplayName, &r.mentions, &r.attachments,
		&r.replyTo, &r.reactions, &r.forwarded}
}

func (r *msgRow) ok() bool { return r.id.Valid }

func (r *msgRow) message() (parley.Message, error) {
	m := parley.Message{
		ID:             r.id.Int64,
		ConversationID: r.conv.Int64,
		Seq:            r.seq.Int64,
		Mod:            r.mod.Int64,
		SenderID:       r.sender.Int64,
		ClientMsgID:    r.clientMsgID.String,
		Kind:           r.kind.String,
		Text:           r.text.String,
		CreatedAt:      tm(r.created.Int64),
		EditedAt:       tmp(r.edited),
		DeletedAt:      tmp(r.deleted),
		ReplyTo:        r.replyTo.Int64,
		Forwarded:      r.forwarded.Bool,
	}
	if r.sender.Valid {
		m.Sender = &parley.UserRef{ID: r.sender.Int64, Username: r.senderUsername.String, DisplayName: r.senderDisplayName.String}
	}
	if r.system.Valid {
		m.System = new(parley.SystemInfo)
		if err := json.Unmarshal([]byte(r.system.String), m.System); err != nil {
			return parley.Message{}, err
		}
	}
	if r.mentions.Valid {
		if err := json.Unmarshal([]byte(r.mentions.String), &m.Mentions); err != nil {
			return parley.Message{}, err
		}
	}
	if r.attachments.Valid {
		if err := json.Unmarshal([]byte(r.attachments.String), &m.Attachments); err != nil {
			return parley.Message{}, err
		}
	}
	if r.reactions.Valid {
		if err := json.Unmarshal([]byte(r.reactions.String), &m.Reactions); err != nil {
			return parley.Message{}, err
		}
	}
	return m, nil
}

// takeUploads returns the uploads a new message attaches, checking that
// each is the sender's and not attached (ErrBadAttachments). Nothing is
// read for a message without attachments.
func takeUploads(ctx context.Context, tx *wtx, nm parley.NewMessage) ([]parley.Upload, error) {
	var ups []parley.Upload
	for _, id := range nm.Attachments {
		u, err := getUpload(ctx, tx, id)
		if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && (u.OwnerID != nm.SenderID || u.MessageID != 0) {
			return nil, parley.ErrBadAttachments
		} else if err != nil {
			return nil, err
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// attach makes uploads the attachments of message id.
func attach(ctx context.Context, tx *wtx, ups []parley.Upload, conversationID, id int64) error {
	for _, u := range ups {
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET message_id = ?, conversation_id = ? WHERE id = ?`,
			id, conversationID, u.ID); err != nil {
			return err
		}
	}
	return nil
}

// mentionsJSON encodes a message's mentions for its column (NULL: none).
func mentionsJSON(ids []int64) sql.NullString {
	if len(ids) == 0 {
		return sql.NullString{}
	}
	b, _ := json.Marshal(ids) // a list of numbers always encodes
	return sql.NullString{String: string(b), Valid: true}
}

// setMentions replaces the mention rows of a message (they feed the unread
// mention counts).
func setMentions(ctx context.Context, tx *wtx, conversationID, seq int64, ids []int64, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mentions WHERE conversation_id = ? AND seq = ?`, conversationID, seq); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO mentions (user_id, conversation_id, seq) VALUES (?, ?, ?)`,
			id, conversationID, seq); err != nil {
			return err
		}
	}
	return nil
}

func scanMessage(sc scanner) (parley.Message, error) {
	var r msgRow
	if err := sc.Scan(r.dest()...); err != nil {
		return parley.Message{}, err
	}
	return r.message()
}

func getMessage(ctx context.Context, q queryer, conversationID, seq int64) (parley.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx,
		`SELECT `+msgCols+` FROM `+msgFrom+` WHERE m.conversation_id = ? AND m.seq = ?`, conversationID, seq))
	if err != nil {
		return m, dbErr(err)
	}
	ms := []parley.Message{m}
	err = fillReplies(ctx, q, ms)
	return ms[0], err
}

// readMessages collects the messages of a query with their replies'
// previews.
func readMessages(ctx context.Context, q queryer, query string, args ...any) ([]parley.Message, error) {
	ms, err := collect(ctx, q, scanMessage, query, args...)
	if err != nil {
		return nil, err
	}
	return ms, fillReplies(ctx, q, ms)
}

// fillReplies sets the Reply of the messages that answer another: one
// query per conversation, only when some do.
func fillReplies(ctx context.Context, q queryer, ms []parley.Message) error {
	seqs := map[int64][]int64{}
	for _, m := range ms {
		if m.ReplyTo != 0 {
			seqs[m.ConversationID] = append(seqs[m.ConversationID], m.ReplyTo)
		}
	}
	for conv, list := range seqs {
		b, _ := json.Marshal(list) // numbers always encode
		orig, err := collect(ctx, q, scanMessage, `SELECT `+msgCols+` FROM `+msgFrom+`
			WHERE m.conversation_id = ? AND m.seq IN (SELECT value FROM json_each(?))`, conv, string(b))
		if err != nil {
			return err
		}
		previews := make(map[int64]*parley.ReplyPreview, len(orig))
		for i := range orig {
			previews[orig[i].Seq] = parley.PreviewOf(&orig[i])
		}
		for i := range ms {
			if ms[i].ConversationID == conv && ms[i].ReplyTo != 0 {
				ms[i].Reply = previews[ms[i].ReplyTo]
			}
		}
	}
	return nil
}

// AppendMessage stores a message with the next seq and returns it once
// committed (see the package comment on group commit, and append.go).
func (s *Store) AppendMessage(ctx context.Context, nm parley.NewMessage) (parley.Message, bool, error) {
	req := &writeReq{ctx: ctx, nm: &nm, res: make(chan error, 1)}
	if err := s.submit(req); err != nil {
		return parley.Message{}, false, err
	}
	return req.msg, req.created, nil
}

// Messages returns a page of history in ascending seq order.
func (s *Store) Messages(ctx context.Context, conversationID int64, q parley.MessageQuery) ([]parley.Message, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	if q.AroundSeq > 0 {
		return s.messagesAround(ctx, conversationID, q.AroundSeq, limit)
	}
	if q.BeforeSeq > 0 {
		ms, err := readMessages(ctx, s.rd, `SELECT `+msgCols+` FROM `+msgFrom+`
			WHERE m.conversation_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`,
			conversationID, q.BeforeSeq, limit)
		slices.Reverse(ms)
		return ms, err
	}
	return readMessages(ctx, s.rd, `SELECT `+msgCols+` FROM `+msgFrom+`
		WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`,
		conversationID, q.AfterSeq, limit)
}

// messagesAround reads the page of history around a seq
// (MessageQuery.AroundSeq).
func (s *Store) messagesAround(ctx context.Context, conversationID, seq int64, limit int) ([]parley.Message, error) {
	before := limit / 2
	return readMessages(ctx, s.rd, `
		SELECT * FROM (SELECT `+msgCols+` FROM `+msgFrom+`
			WHERE m.conversation_id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3)
		UNION ALL
		SELECT * FROM (SELECT `+msgCols+` FROM `+msgFrom+`
			WHERE m.conversation_id = ?1 AND m.seq >= ?2 ORDER BY m.seq LIMIT ?4)
		ORDER BY 3`, conversationID, seq, before, limit-before)
}

// Message returns one message by seq.
func (s *Store) Message(ctx context.Context, conversationID, seq int64) (parley.Message, error) {
	return getMessage(ctx, s.rd, conversationID, seq)
}

// Changes returns messages with seq <= maxSeq edited or deleted after mod
// afterMod, in mod order, at most limit.
func (s *Store) Changes(ctx context.Context, conversationID, afterMod, maxSeq int64, limit int) ([]parley.Message, error) {
	if limit <= 0 {
		limit = parley.PageSizeDefault
	}
	// The WHERE repeats the condition of the partial index messages_changed.
	return readMessages(ctx, s.rd, `SELECT `+msgCols+` FROM `+msgFrom+`
		WHERE m.conversation_id = ? AND m.mod > ? AND m.seq <= ?
			AND (m.edited_at IS NOT NULL OR m.deleted_at IS NOT NULL OR m.reactions IS NOT NULL)
		ORDER BY m.mod LIMIT ?`, conversationID, afterMod, maxSeq, limit)
}

// changeMessage loads a text message for an edit or deletion.
func changeMessage(ctx context.Context, tx *wtx, conversationID, seq int64) (parley.Message, error) {
	m, err := getMessage(ctx, tx, conversationID, seq)
	if err != nil {
		return m, err
	}
	if m.Kind != parley.MessageText {
		return m, parley.Errorf(parley.EINVALID, "Only text messages can be changed.")
	}
	return m, nil
}

// nextMod advances the conversation's change counter and returns it.
func nextMod(ctx context.Context, tx *wtx, conversationID int64) (int64, error) {
	var mod int64
	err := tx.QueryRowContext(ctx, `UPDATE conversations SET last_mod = last_mod + 1 WHERE id = ? RETURNING last_mod`,
		conversationID).Scan(&mod)
	return mod, dbErr(err)
}

// EditMessage replaces the text of the editor's own text message.
func (s *Store) EditMessage(ctx context.Context, conversationID, seq, editor int64, text string, mentions []int64, now time.Time) (parley.Message, error) {
	var m parley.Message
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if m, err = changeMessage(ctx, tx, conversationID, seq); err != nil {
			return err
		}
		switch {
		case m.SenderID != editor:
			return parley.Errorf(parley.EFORBIDDEN, "Only the sender can edit a message.")
		case m.DeletedAt != nil:
			return parley.Errorf(parley.EINVALID, "A deleted message cannot be edited.")
		}
		if m.Mod, err = nextMod(ctx, tx, conversationID); err != nil {
			return err
		}
		m.Text, m.EditedAt, m.Mentions = text, new(tm(ts(now))), slices.Clone(mentions)
		_, err = tx.ExecContext(ctx, `UPDATE messages SET text = ?, edited_at = ?, mod = ?, mentions = ? WHERE id = ?`,
			m.Text, ts(now), m.Mod, mentionsJSON(mentions), m.ID)
		if err != nil {
			return err
		}
		return setMentions(ctx, tx, conversationID, seq, mentions, true)
	})
	if err != nil {
		return parley.Message{}, err
	}
	return m, nil
}

// DeleteMessage turns a text message into a tombstone.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, seq, actor int64, byModerator bool, now time.Time) (parley.Message, error) {
	var m parley.Message
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if m, err = changeMessage(ctx, tx, conversationID, seq); err != nil {
			return err
		}
		switch {
		case m.SenderID != actor && !byModerator:
			return parley.Errorf(parley.EFORBIDDEN, "Only the sender or a moderator can delete a message.")
		case m.DeletedAt != nil:
			return nil
		}
		if m.Mod, err = nextMod(ctx, tx, conversationID); err != nil {
			return err
		}
		if len(m.Attachments) > 0 {
			ups, err := collect(ctx, tx, scanUpload, `SELECT `+uploadCols+` FROM uploads WHERE message_id = ?`, m.ID)
			if err != nil {
				return err
			}
			var n int
			if err := deleteUploads(ctx, tx, ups, &n); err != nil {
				return err
			}
		}
		m.Text, m.DeletedAt, m.Mentions, m.Attachments = "", new(tm(ts(now))), nil, nil
		m.ReplyTo, m.Reply, m.Reactions = 0, nil, nil
		if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE conversation_id = ? AND seq = ?`, conversationID, seq); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE messages SET text = '', deleted_at = ?, mod = ?, mentions = NULL, attachments = NULL,
			reply_to = NULL, reactions = NULL
			WHERE id = ?`,
			ts(now), m.Mod, m.ID)
		if err != nil {
			return err
		}
		return setMentions(ctx, tx, conversationID, seq, nil, true)
	})
	if err != nil {
		return parley.Message{}, err
	}
	return m, nil
}

// SetMarks moves a member's delivered and read marks forward, clamped to
// the conversation's last seq; read implies delivered. In conversations of
// at most stepsUpTo members each mark that moved is recorded in mark_steps
// under at's minute, in one statement.
func (s *Store) SetMarks(ctx context.Context, conversationID, userID, deliveredSeq, readSeq int64, at time.Time, stepsUpTo int) (parley.Member, bool, error) {
	var (
		m       parley.Member
		changed bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		// The member and the conversation's last seq and size in one
		// statement: each costs the writer about as much as the step.
		var last, count int64
		m, err = scanMember(scanAlso{tx.QueryRowContext(ctx, `SELECT `+memberCols+`, c.last_seq, c.member_count
			FROM `+memberFrom+` JOIN conversations c ON c.id = mb.conversation_id
			WHERE mb.conversation_id = ? AND mb.user_id = ?`, conversationID, userID), []any{&last, &count}})
		if err != nil {
			return dbErr(err)
		}
		read := max(m.ReadSeq, min(readSeq, last))
		delivered := max(m.DeliveredSeq, min(deliveredSeq, last), read)
		if read == m.ReadSeq && delivered == m.DeliveredSeq {
			return nil
		}
		old := m
		changed, m.ReadSeq, m.DeliveredSeq = true, read, delivered
		// Quiet: marks are not cached by the writer (append.go), and a
		// receipt comes for nearly every message.
		return tx.quietly(func() error {
			_, err := tx.ExecContext(ctx, `UPDATE members SET delivered_seq = ?, read_seq = ?
				WHERE conversation_id = ? AND user_id = ?`, delivered, read, conversationID, userID)
			if err != nil || count > int64(stepsUpTo) {
				return err
			}
			minute := at.Unix() / 60
			const step = `INSERT INTO mark_steps (conversation_id, user_id, kind, minute, seq) VALUES `
			const upsert = ` ON CONFLICT (conversation_id, user_id, kind, minute) DO UPDATE SET seq = max(seq, excluded.seq)`
			switch {
			case delivered > old.DeliveredSeq && read > old.ReadSeq:
				_, err = tx.ExecContext(ctx, step+`(?1, ?2, 0, ?3, ?4), (?1, ?2, 1, ?3, ?5)`+upsert,
					conversationID, userID, minute, delivered, read)
			case delivered > old.DeliveredSeq:
				_, err = tx.ExecContext(ctx, step+`(?1, ?2, 0, ?3, ?4)`+upsert, conversationID, userID, minute, delivered)
			default:
				_, err = tx.ExecContext(ctx, step+`(?1, ?2, 1, ?3, ?4)`+upsert, conversationID, userID, minute, read)
			}
			return err
		})
	})
	if err != nil {
		return parley.Member{}, false, err
	}
	return m, changed, nil
}

// scanAlso scans more columns after those a scan function reads.
type scanAlso struct {
	sc   scanner
	more []any
}

func (s scanAlso) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.more...)...) }

// MarkTimes returns when each current member's marks first reached seq:
// the first minute with a step at seq or beyond, looked for from
// parley.MarkTimesSkew before sent.
func (s *Store) MarkTimes(ctx context.Context, conversationID, seq int64, sent time.Time) ([]parley.MarkTime, error) {
	from := sent.Add(-parley.MarkTimesSkew).Unix() / 60
	return collect(ctx, s.rd, func(r scanner) (parley.MarkTime, error) {
		var (
			t      parley.MarkTime
			dl, rd sql.NullInt64
		)
		err := r.Scan(&t.UserID, &dl, &rd)
		t.DeliveredAt, t.ReadAt = parley.StepTime(dl.Int64, dl.Valid, sent), parley.StepTime(rd.Int64, rd.Valid, sent)
		return t, err
	}, `SELECT user_id, d, r FROM (
		SELECT mb.user_id,
			(SELECT minute FROM mark_steps s WHERE s.conversation_id = mb.conversation_id AND s.user_id = mb.user_id
				AND s.kind = 0 AND s.minute >= ?3 AND s.seq >= ?2 ORDER BY s.minute LIMIT 1) AS d,
			(SELECT minute FROM mark_steps s WHERE s.conversation_id = mb.conversation_id AND s.user_id = mb.user_id
				AND s.kind = 1 AND s.minute >= ?3 AND s.seq >= ?2 ORDER BY s.minute LIMIT 1) AS r
		FROM members mb WHERE mb.conversation_id = ?1 AND mb.delivered_seq >= ?2)
		WHERE d IS NOT NULL OR r IS NOT NULL`, conversationID, seq, from)
}

// React adds or removes a person's reaction to a message.
func (s *Store) React(ctx context.Context, conversationID, seq, userID int64, emoji string, on bool, now time.Time) (parley.Message, bool, error) {
	var (
		m       parley.Message
		changed bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if _, err = getMember(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		if m, err = getMessage(ctx, tx, conversationID, seq); err != nil {
			return err
		}
		if m.Kind != parley.MessageText || m.DeletedAt != nil {
			return parley.ErrReactionTarget
		}
		if on {
			var distinct, mine, present, there int
			err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT emoji), coalesce(sum(user_id = ?1), 0),
					coalesce(sum(emoji = ?2), 0), coalesce(sum(user_id = ?1 AND emoji = ?2), 0)
				FROM reactions WHERE conversation_id = ?3 AND seq = ?4`, userID, emoji, conversationID, seq).
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
			if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (conversation_id, seq, user_id, emoji, created_at)
				VALUES (?, ?, ?, ?, ?)`, conversationID, seq, userID, emoji, ts(now)); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE conversation_id = ? AND seq = ? AND user_id = ? AND emoji = ?`,
				conversationID, seq, userID, emoji)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err
			}
		}
		changed = true
		list, err := collect(ctx, tx, func(sc scanner) (r parley.ReactionOf, err error) {
			return r, sc.Scan(&r.Emoji, &r.UserID)
		}, `SELECT emoji, user_id FROM reactions WHERE conversation_id = ? AND seq = ? ORDER BY created_at, rowid`, conversationID, seq)
		if err != nil {
			return err
		}
		m.Reactions = parley.SummarizeReactions(list)
		b, err := json.Marshal(m.Reactions)
		if err != nil {
			return err
		}
		if m.Mod, err = nextMod(ctx, tx, conversationID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE messages SET reactions = ?, mod = ? WHERE id = ?`, string(b), m.Mod, m.ID)
		return err
	})
	if err != nil {
		return parley.Message{}, false, err
	}
	return m, changed, nil
}
