package ws

import (
	"context"

	"parley"
)

func (c *Conn) opReact(ctx context.Context, data []byte) (any, error) {
	var r struct {
		base
		ConversationID int64  `json:"conversation_id"`
		Seq            int64  `json:"seq"`
		Emoji          string `json:"emoji"`
		On             *bool  `json:"on"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return nil, err
	}
	if r.On == nil {
		return nil, parley.FieldErrorf("on", "on is true to add the reaction, false to take it back.")
	}
	m, changed, err := c.srv.svc.React(ctx, c.user.ID, r.ConversationID, r.Seq, r.Emoji, *r.On)
	if err != nil {
		return nil, err
	}
	return struct {
		Message parley.Message `json:"message"`
		Changed bool           `json:"changed"`
	}{m, changed}, nil
}
