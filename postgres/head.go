package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley"
)

// headChunk bounds the ids of one ConversationHeads query.
const headChunk = 5000

func collectHeads(rows pgx.Rows, err error) ([]parley.ConvHead, error) {
	if err != nil {
		return nil, mapError(err)
	}
	heads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.ConvHead, error) {
		var h parley.ConvHead
		err := row.Scan(&h.ID, &h.LastSeq, &h.LastMod)
		return h, err
	})
	return heads, mapError(err)
}

// ConversationHeads reads the heads of conversations ids, a chunk of ids
// per query.
func (s *Store) ConversationHeads(ctx context.Context, ids []int64) ([]parley.ConvHead, error) {
	out := make([]parley.ConvHead, 0, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), headChunk)]
		ids = ids[len(chunk):]
		heads, err := collectHeads(s.pool.Query(ctx, `SELECT id, last_seq, last_mod FROM conversations WHERE id = ANY($1)`, chunk))
		if err != nil {
			return nil, err
		}
		out = append(out, heads...)
	}
	return out, nil
}

// UserConversationHeads reads the heads of userID's conversations.
func (s *Store) UserConversationHeads(ctx context.Context, userID int64) ([]parley.ConvHead, error) {
	return collectHeads(s.pool.Query(ctx, `SELECT c.id, c.last_seq, c.last_mod
		FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = $1 ORDER BY c.id`, userID))
}
