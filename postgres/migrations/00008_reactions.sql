-- Reactions: one row per person and emoji on a message, and the message's
-- summary (parley.Reaction list) kept with it. A message that has had
-- reactions counts as changed for sync (its mod moves with each one).

-- +goose Up
CREATE TABLE reactions (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji           text NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, seq, user_id, emoji)
);
ALTER TABLE messages ADD COLUMN reactions jsonb;

-- +goose Down
ALTER TABLE messages DROP COLUMN reactions;
DROP TABLE reactions;
