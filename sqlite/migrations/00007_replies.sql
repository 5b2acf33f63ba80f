-- Replies: the seq of the message a message answers (NULL: none), in the
-- same conversation.

-- +goose Up
ALTER TABLE messages ADD COLUMN reply_to INTEGER;

-- +goose Down
ALTER TABLE messages DROP COLUMN reply_to;
