package ws

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"parley"
	"parley/hub"
	"parley/service"
)

// handle decodes and runs one operation and queues its reply.
func (c *Conn) handle(ctx context.Context, data []byte) {
	if err := parley.CheckJSONText(data); err != nil {
		c.send(errorReply(requestID(data), err))
		return
	}
	if op, ok := parseSend(data); ok { // most operations: see parseSend
		c.holdWrites() // the event and the reply in one write
		defer c.releaseWrites()
		out, err := c.sendMessage(ctx, op)
		c.reply(ctx, "send", op.id, out, err)
		return
	}
	var req request
	if err := json.Unmarshal(data, &req); err != nil || req.Op == "" {
		c.send(errorReply(requestID(data), parley.Errorf(parley.EBADREQUEST, "A request is a JSON object with \"op\" and \"id\".")))
		return
	}
	id := rawID(req.ID)
	switch req.Op {
	case "send", "edit", "delete":
		c.holdWrites() // the event and the reply in one write
		defer c.releaseWrites()
	}
	var (
		out any
		err error
	)
	switch req.Op {
	case "send":
		out, err = c.opSend(ctx, data)
	case "sync":
		err = c.opSync(ctx, id, data)
		if err == nil {
			return // opSync replied
		}
	case "receipt":
		out, err = c.opReceipt(ctx, data)
	case "typing":
		out, err = c.opTyping(ctx, data)
	case "edit":
		out, err = c.opEdit(ctx, data)
	case "delete":
		out, err = c.opDelete(ctx, data)
	case "react":
		out, err = c.opReact(ctx, data)
	case "ping":
		out = struct{}{}
	default:
		h := c.srv.handler(req.Op)
		if h == nil {
			c.send(errorReply(id, parley.Errorf(parley.EUNKNOWNOP, "Unknown op %q.", req.Op)))
			return
		}
		out, err = h(ctx, c, data)
	}
	c.reply(ctx, req.Op, id, out, err)
}

// reply queues an operation's reply: its fields out, or err.
func (c *Conn) reply(ctx context.Context, op, id string, out any, err error) {
	if err != nil {
		if parley.ErrorCode(err) == parley.EINTERNAL && ctx.Err() == nil {
			c.srv.log.Error("ws op failed", "op", op, "user", c.user.ID, "err", err)
		}
		c.send(errorReply(id, err))
		return
	}
	c.send(okReply(id, out))
}

// base are the fields every request has.
type base struct {
	Op string          `json:"op"`
	ID json.RawMessage `json:"id"`
}

func (c *Conn) opSend(ctx context.Context, data []byte) (any, error) {
	var r struct {
		base
		ConversationID int64   `json:"conversation_id"`
		ClientMsgID    string  `json:"client_msg_id"`
		Text           string  `json:"text"`
		Attachments    []int64 `json:"attachments"`
		ReplyTo        int64   `json:"reply_to"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return nil, err
	}
	return c.sendMessage(ctx, sendOp{conversationID: r.ConversationID, clientMsgID: r.ClientMsgID, text: r.Text,
		attachments: r.Attachments, replyTo: r.ReplyTo})
}

// sendMessage runs a decoded send and returns its reply's fields.
func (c *Conn) sendMessage(ctx context.Context, op sendOp) (any, error) {
	m, created, err := c.srv.svc.SendMessage(ctx, c.user.ID, service.Outgoing{ConversationID: op.conversationID,
		ClientMsgID: op.clientMsgID, Text: op.text, Attachments: op.attachments, ReplyTo: op.replyTo})
	if err != nil {
		return nil, err
	}
	// {"message":…,"duplicate":…}, without reflection: every send's reply.
	b := make(rawFields, 0, 300+len(m.Text))
	b = append(b, `{"message":`...)
	b = m.AppendJSON(b)
	b = strconv.AppendBool(append(b, `,"duplicate":`...), !created)
	return append(b, '}'), nil
}

func (c *Conn) opReceipt(ctx context.Context, data []byte) (any, error) {
	var r struct {
		base
		ConversationID int64 `json:"conversation_id"`
		DeliveredSeq   int64 `json:"delivered_seq"`
		ReadSeq        int64 `json:"read_seq"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return nil, err
	}
	m, err := c.srv.svc.Receipt(ctx, c.user.ID, r.ConversationID, r.DeliveredSeq, r.ReadSeq)
	if err != nil {
		return nil, err
	}
	return struct {
		DeliveredSeq int64 `json:"delivered_seq"`
		ReadSeq      int64 `json:"read_seq"`
	}{m.DeliveredSeq, m.ReadSeq}, nil
}

func (c *Conn) opTyping(ctx context.Context, data []byte) (any, error) {
	var r struct {
		base
		ConversationID int64 `json:"conversation_id"`
		Active         bool  `json:"active"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return nil, err
	}
	return struct{}{}, c.srv.svc.Typing(ctx, c.user.ID, r.ConversationID, r.Active, c.id)
}

func (c *Conn) opEdit(ctx context.Context, data []byte) (any, error) {
	var r struct {
		base
		ConversationID int64  `json:"conversation_id"`
		Seq            int64  `json:"seq"`
		Text           string `json:"text"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return nil, err
	}
	m, err := c.srv.svc.Edit(ctx, c.user.ID, r.ConversationID, r.Seq, r.Text)
	if err != nil {
		return nil, err
	}
	return struct {
		Message parley.Message `json:"message"`
	}{m}, nil
}

func (c *Conn) opDelete(ctx context.Context, data []byte) (any, error) {
	var r struct {
		base
		ConversationID int64 `json:"conversation_id"`
		Seq            int64 `json:"seq"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return nil, err
	}
	m, err := c.srv.svc.Delete(ctx, c.user.ID, r.ConversationID, r.Seq)
	if err != nil {
		return nil, err
	}
	return struct {
		Message parley.Message `json:"message"`
	}{m}, nil
}

// cursor accepts {"seq":N,"mod":M} (either may be left out: 0) or a plain
// N, integers; nothing else (no null, no other field).
type cursor service.Cursor

var errCursor = parley.FieldErrorf("cursors", "cursors maps conversation ids to {seq, mod} of non-negative numbers.")

func (cu *cursor) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			Seq json.RawMessage `json:"seq"`
			Mod json.RawMessage `json:"mod"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if dec.Decode(&v) != nil {
			return errCursor
		}
		seq, ok1 := cursorInt(v.Seq, true)
		mod, ok2 := cursorInt(v.Mod, true)
		if !ok1 || !ok2 {
			return errCursor
		}
		*cu = cursor{Seq: seq, Mod: mod}
		return nil
	}
	n, ok := cursorInt(b, false)
	if !ok {
		return errCursor
	}
	*cu = cursor{Seq: n}
	return nil
}

// cursorInt reads an integer; an absent one (empty) is 0 if optional.
func cursorInt(raw []byte, optional bool) (int64, bool) {
	if len(raw) == 0 {
		return 0, optional
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// opSync streams the sync events, then `synced` and the reply, while live
// events wait; the held events then follow, minus messages the sync carried.
func (c *Conn) opSync(ctx context.Context, id string, data []byte) error {
	var r struct {
		base
		Cursors map[string]cursor `json:"cursors"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return err
	}
	cursors := make(map[int64]service.Cursor, len(r.Cursors))
	for k, v := range r.Cursors {
		cid, err := strconv.ParseInt(k, 10, 64)
		if err != nil || cid <= 0 || v.Seq < 0 || v.Mod < 0 {
			return parley.FieldErrorf("cursors", "cursors maps conversation ids to {seq, mod} of non-negative numbers.")
		}
		cursors[cid] = service.Cursor(v)
	}
	c.mu.Lock()
	c.syncing = true
	c.mu.Unlock()
	n := 0
	err := c.srv.svc.Sync(ctx, c.user.ID, cursors, func(res service.SyncResult) error {
		n++
		var top int64
		if k := len(res.Messages); k > 0 {
			top = res.Messages[k-1].Seq
		}
		return c.sendSync(ctx, res.Conversation.ID, top, encode(res))
	})
	c.mu.Lock()
	held := c.held
	c.held, c.syncing = nil, false
	if err == nil {
		c.enqueueLocked([]byte(`{"ev":"synced"}`), 1, 0)
		c.enqueueLocked(okReply(id, struct {
			Conversations int `json:"conversations"`
		}{n}), 1, 0)
	}
	c.srv.charge(-c.heldCost)
	c.heldBytes, c.heldCost = 0, 0
	now := hub.Mono() // held events enter the queue now
	for _, d := range held {
		c.deliverLocked(d, now)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.sendPresence(ctx)
	return nil
}

// sendSync queues one sync event, waiting for the writer while more than
// syncWindow is queued or being written: a large catch-up keeps little
// queued, so it never trips the slow-consumer limits of a client that
// reads (see queue.go).
func (c *Conn) sendSync(ctx context.Context, convID, topSeq int64, frame []byte) error {
	window := min(syncWindow, c.srv.cfg.QueueBytes/2)
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return parley.Errorf(parley.EUNAVAILABLE, "Connection closed.")
		}
		if pending := c.queueBytes + c.flightBytes; pending == 0 || pending+len(frame) <= window {
			if topSeq > c.synced[convID] {
				if c.synced == nil {
					c.synced = make(map[int64]int64)
				}
				c.synced[convID] = topSeq
			}
			c.enqueueLocked(frame, 1, 0)
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		select {
		case <-c.drained:
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sendPresence tells this connection which of the user's contacts are
// online, and when the others were last seen.
func (c *Conn) sendPresence(ctx context.Context) {
	p := c.srv.presence
	if p == nil {
		return
	}
	contacts, err := c.srv.svc.Contacts(ctx, c.user.ID)
	if err != nil || len(contacts) == 0 {
		return
	}
	if len(contacts) > 1000 {
		contacts = contacts[:1000]
	}
	online := p.OnlineUsers(contacts)
	var offline []int64
	for _, uid := range contacts {
		if !online[uid] {
			offline = append(offline, uid)
		}
	}
	// One query for when the others were last seen. If the database is
	// away, only the online ones are told.
	var seen map[int64]time.Time
	if len(offline) > 0 {
		if seen, err = c.srv.svc.LastSeen(ctx, offline); err != nil {
			offline = nil
		}
	}
	for _, uid := range contacts {
		if online[uid] {
			c.Deliver(&hub.Delivery{Frame: service.PresenceJSON(uid, true, nil)})
		} else if offline != nil {
			var ls *time.Time
			if t, ok := seen[uid]; ok {
				ls = &t
			}
			c.Deliver(&hub.Delivery{Frame: service.PresenceJSON(uid, false, ls)})
		}
	}
}
