package sqlite

import (
	"context"
	"database/sql"
	"time"

	"parley"
)

// Pin pins or unpins a message of a conversation.
func (s *Store) Pin(ctx context.Context, conversationID, seq, userID int64, on bool, now time.Time) ([]parley.Pin, bool, error) {
	var (
		pins    []parley.Pin
		changed bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		mb, err := getMember(ctx, tx, conversationID, userID)
		if err != nil {
			return err
		}
		var kind string
		if err := tx.QueryRowContext(ctx, `SELECT kind FROM conversations WHERE id = ?`, conversationID).Scan(&kind); err != nil {
			return dbErr(err)
		}
		if kind == parley.KindGroup && !mb.CanModerate() {
			return parley.ErrPinForbidden
		}
		m, err := getMessage(ctx, tx, conversationID, seq)
		if err != nil {
			return err
		}
		changed = false
		if on {
			if m.Kind != parley.MessageText || m.DeletedAt != nil {
				return parley.ErrPinTarget
			}
			var count, there int
			err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(p.seq = ?), 0)
				FROM pins p JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq
				WHERE p.conversation_id = ? AND m.deleted_at IS NULL`, seq, conversationID).Scan(&count, &there)
			if err != nil {
				return err
			}
			if there == 0 {
				if count >= parley.PinsPerConversation {
					return parley.ErrTooManyPins
				}
				// A pin of a message deleted since is replaced.
				if _, err := tx.ExecContext(ctx, `INSERT INTO pins (conversation_id, seq, pinned_by, pinned_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (conversation_id, seq) DO UPDATE SET pinned_by = excluded.pinned_by, pinned_at = excluded.pinned_at`,
					conversationID, seq, userID, ts(now)); err != nil {
					return err
				}
				changed = true
			}
		} else {
			res, err := tx.ExecContext(ctx, `DELETE FROM pins WHERE conversation_id = ? AND seq = ?`, conversationID, seq)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			changed = n > 0
		}
		pins, err = listPins(ctx, tx, conversationID)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return pins, changed, nil
}

// Pins lists a conversation's pinned messages, the latest pinned first.
func (s *Store) Pins(ctx context.Context, conversationID, userID int64) ([]parley.Pin, error) {
	if _, err := getMember(ctx, s.rd, conversationID, userID); err != nil {
		return nil, err
	}
	return listPins(ctx, s.rd, conversationID)
}

func listPins(ctx context.Context, q queryer, conversationID int64) ([]parley.Pin, error) {
	list, err := collect(ctx, q, func(sc scanner) (p parley.Pin, err error) {
		var at int64
		err = sc.Scan(&p.Seq, &p.PinnedBy, &at)
		p.PinnedAt = tm(at)
		return p, err
	}, `SELECT seq, pinned_by, pinned_at FROM pins WHERE conversation_id = ? ORDER BY pinned_at DESC, seq DESC`, conversationID)
	if err != nil {
		return nil, err
	}
	out := []parley.Pin{}
	for _, p := range list {
		m, err := getMessage(ctx, q, conversationID, p.Seq)
		if err != nil {
			return nil, err
		}
		if m.DeletedAt != nil {
			continue
		}
		p.Message = parley.PreviewOf(&m)
		out = append(out, p)
	}
	return out, nil
}

// SetChatList changes a person's chat list settings of a conversation.
func (s *Store) SetChatList(ctx context.Context, conversationID, userID int64, upd parley.ChatListUpdate, now time.Time) (parley.ChatListEntry, error) {
	var e parley.ChatListEntry
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		if _, err := getMember(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		var err error
		if e, err = chatListEntry(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		if upd.Pinned != nil {
			switch {
			case *upd.Pinned && e.PinnedAt == nil:
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chat_list c JOIN members mb ON mb.conversation_id = c.conversation_id AND mb.user_id = c.user_id
					WHERE c.user_id = ? AND c.pinned_at IS NOT NULL`, userID).Scan(&n); err != nil {
					return err
				}
				if n >= parley.PinnedChatsMax {
					return parley.ErrTooManyPinnedChats
				}
				e.PinnedAt = &now
			case !*upd.Pinned:
				e.PinnedAt = nil
			}
		}
		if upd.Archived != nil {
			switch {
			case *upd.Archived && e.ArchivedAt == nil:
				e.ArchivedAt = &now
			case !*upd.Archived:
				e.ArchivedAt = nil
			}
		}
		if upd.MarkedUnread != nil {
			e.MarkedUnread = *upd.MarkedUnread
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO chat_list (user_id, conversation_id, pinned_at, archived_at, marked_unread)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, conversation_id) DO UPDATE SET pinned_at = excluded.pinned_at,
				archived_at = excluded.archived_at, marked_unread = excluded.marked_unread`,
			userID, conversationID, tsp(e.PinnedAt), tsp(e.ArchivedAt), e.MarkedUnread)
		return err
	})
	if err != nil {
		return parley.ChatListEntry{}, err
	}
	e.PinnedAt, e.ArchivedAt = utcp(e.PinnedAt), utcp(e.ArchivedAt)
	return e, nil
}

// ChatList returns a person's chat list settings of their conversations.
func (s *Store) ChatList(ctx context.Context, userID int64) ([]parley.ChatListEntry, error) {
	return collect(ctx, s.rd, scanChatList, `SELECT c.conversation_id, c.pinned_at, c.archived_at, c.marked_unread
		FROM chat_list c JOIN members mb ON mb.conversation_id = c.conversation_id AND mb.user_id = c.user_id
		WHERE c.user_id = ? AND (c.pinned_at IS NOT NULL OR c.archived_at IS NOT NULL OR c.marked_unread)
		ORDER BY c.conversation_id`, userID)
}

func scanChatList(sc scanner) (parley.ChatListEntry, error) {
	var (
		e                parley.ChatListEntry
		pinned, archived sql.NullInt64
	)
	err := sc.Scan(&e.ConversationID, &pinned, &archived, &e.MarkedUnread)
	e.PinnedAt, e.ArchivedAt = tmp(pinned), tmp(archived)
	return e, err
}

func chatListEntry(ctx context.Context, q queryer, conversationID, userID int64) (parley.ChatListEntry, error) {
	e, err := scanChatList(q.QueryRowContext(ctx, `SELECT conversation_id, pinned_at, archived_at, marked_unread
		FROM chat_list WHERE user_id = ? AND conversation_id = ?`, userID, conversationID))
	if err == sql.ErrNoRows {
		return parley.ChatListEntry{ConversationID: conversationID}, nil
	}
	return e, err
}

// tsp is ts for an optional time (NULL for nil).
func tsp(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ts(*t), Valid: true}
}

// utcp truncates an optional time as the store keeps it.
func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := tm(ts(*t))
	return &u
}
