package sqlite

import (
	"context"
	"strconv"

	"parley"
)

// headChunk bounds the ids of one ConversationHeads query.
const headChunk = 5000

func scanHead(sc scanner) (parley.ConvHead, error) {
	var h parley.ConvHead
	err := sc.Scan(&h.ID, &h.LastSeq, &h.LastMod)
	return h, err
}

// ConversationHeads reads the heads of conversations ids, a chunk of ids
// per query (passed as one JSON array).
func (s *Store) ConversationHeads(ctx context.Context, ids []int64) ([]parley.ConvHead, error) {
	out := make([]parley.ConvHead, 0, len(ids))
	var buf []byte
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), headChunk)]
		ids = ids[len(chunk):]
		buf = append(buf[:0], '[')
		for i, id := range chunk {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, id, 10)
		}
		buf = append(buf, ']')
		heads, err := collect(ctx, s.rd, scanHead, `SELECT id, last_seq, last_mod FROM conversations
			WHERE id IN (SELECT value FROM json_each(?))`, string(buf))
		if err != nil {
			return nil, err
		}
		out = append(out, heads...)
	}
	return out, nil
}

// UserConversationHeads reads the heads of userID's conversations.
func (s *Store) UserConversationHeads(ctx context.Context, userID int64) ([]parley.ConvHead, error) {
	return collect(ctx, s.rd, scanHead, `SELECT c.id, c.last_seq, c.last_mod
		FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = ? ORDER BY c.id`, userID)
}
