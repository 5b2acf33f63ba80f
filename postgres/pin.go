package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

// Pin pins or unpins a message of a conversation. The conversation's row
// lock orders pins of one conversation, so the limit holds.
func (s *Store) Pin(ctx context.Context, conversationID, seq, userID int64, on bool, now time.Time) ([]parley.Pin, bool, error) {
	var (
		pins    []parley.Pin
		changed bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var kind string
		if err := tx.QueryRow(ctx, lockSQL, conversationID).Scan(&kind, new(int)); err != nil {
			return err
		}
		mb, err := member(ctx, tx, conversationID, userID)
		if err != nil {
			return err
		}
		if kind == parley.KindGroup && !mb.CanModerate() {
			return parley.ErrPinForbidden
		}
		m, err := message(ctx, tx, conversationID, seq)
		if err != nil {
			return err
		}
		changed = false
		if on {
			if m.Kind != parley.MessageText || m.DeletedAt != nil {
				return parley.ErrPinTarget
			}
			var count, there int
			err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE p.seq = $1)
				FROM pins p JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq
				WHERE p.conversation_id = $2 AND m.deleted_at IS NULL`, seq, conversationID).Scan(&count, &there)
			if err != nil {
				return err
			}
			if there == 0 {
				if count >= parley.PinsPerConversation {
					return parley.ErrTooManyPins
				}
				if _, err := tx.Exec(ctx, `INSERT INTO pins (conversation_id, seq, pinned_by, pinned_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT (conversation_id, seq) DO UPDATE SET pinned_by = excluded.pinned_by, pinned_at = excluded.pinned_at`,
					conversationID, seq, userID, utc(now)); err != nil {
					return err
				}
				changed = true
			}
		} else {
			tag, err := tx.Exec(ctx, `DELETE FROM pins WHERE conversation_id = $1 AND seq = $2`, conversationID, seq)
			if err != nil {
				return err
			}
			changed = tag.RowsAffected() > 0
		}
		pins, err = listPins(ctx, tx, conversationID)
		return err
	})
	if err != nil {
		return nil, false, mapError(err)
	}
	return pins, changed, nil
}

// Pins lists a conversation's pinned messages, the latest pinned first.
func (s *Store) Pins(ctx context.Context, conversationID, userID int64) ([]parley.Pin, error) {
	if _, err := member(ctx, s.pool, conversationID, userID); err != nil {
		return nil, err
	}
	pins, err := listPins(ctx, s.pool, conversationID)
	return pins, mapError(err)
}

func listPins(ctx context.Context, q querier, conversationID int64) ([]parley.Pin, error) {
	rows, err := q.Query(ctx, `SELECT seq, pinned_by, pinned_at FROM pins WHERE conversation_id = $1
		ORDER BY pinned_at DESC, seq DESC`, conversationID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (p parley.Pin, err error) {
		err = row.Scan(&p.Seq, &p.PinnedBy, &p.PinnedAt)
		p.PinnedAt = p.PinnedAt.UTC()
		return p, err
	})
	if err != nil {
		return nil, err
	}
	out := []parley.Pin{}
	for _, p := range list {
		m, err := message(ctx, q, conversationID, p.Seq)
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
	now = utc(now)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The person's row orders their pins, so the limit holds.
		if _, err := tx.Exec(ctx, `SELECT FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID); err != nil {
			return err
		}
		if _, err := member(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		var err error
		e, err = scanChatList(tx.QueryRow(ctx, `SELECT conversation_id, pinned_at, archived_at, marked_unread
			FROM chat_list WHERE user_id = $1 AND conversation_id = $2`, userID, conversationID))
		if errors.Is(err, pgx.ErrNoRows) {
			e, err = parley.ChatListEntry{ConversationID: conversationID}, nil
		}
		if err != nil {
			return err
		}
		if upd.Pinned != nil {
			switch {
			case *upd.Pinned && e.PinnedAt == nil:
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM chat_list c
					JOIN members mb ON mb.conversation_id = c.conversation_id AND mb.user_id = c.user_id
					WHERE c.user_id = $1 AND c.pinned_at IS NOT NULL`, userID).Scan(&n); err != nil {
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
		_, err = tx.Exec(ctx, `INSERT INTO chat_list (user_id, conversation_id, pinned_at, archived_at, marked_unread)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id, conversation_id) DO UPDATE SET pinned_at = excluded.pinned_at,
				archived_at = excluded.archived_at, marked_unread = excluded.marked_unread`,
			userID, conversationID, e.PinnedAt, e.ArchivedAt, e.MarkedUnread)
		return err
	})
	if err != nil {
		return parley.ChatListEntry{}, mapError(err)
	}
	return e, nil
}

// ChatList returns a person's chat list settings of their conversations.
func (s *Store) ChatList(ctx context.Context, userID int64) ([]parley.ChatListEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.conversation_id, c.pinned_at, c.archived_at, c.marked_unread
		FROM chat_list c JOIN members mb ON mb.conversation_id = c.conversation_id AND mb.user_id = c.user_id
		WHERE c.user_id = $1 AND (c.pinned_at IS NOT NULL OR c.archived_at IS NOT NULL OR c.marked_unread)
		ORDER BY c.conversation_id`, userID)
	if err != nil {
		return nil, mapError(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.ChatListEntry, error) { return scanChatList(row) })
	if err != nil {
		return nil, mapError(err)
	}
	if list == nil {
		list = []parley.ChatListEntry{}
	}
	return list, nil
}

func scanChatList(row pgx.Row) (parley.ChatListEntry, error) {
	var e parley.ChatListEntry
	err := row.Scan(&e.ConversationID, &e.PinnedAt, &e.ArchivedAt, &e.MarkedUnread)
	e.PinnedAt, e.ArchivedAt = utcp(e.PinnedAt), utcp(e.ArchivedAt)
	return e, err
}
