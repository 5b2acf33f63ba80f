-- Reactions: one row per person and emoji on a message, and the message's
-- summary (parley.Reaction list, JSON) kept with it. A message that has
-- had reactions counts as changed for sync (its mod moves with each one):
-- the partial index of changes takes it in.

-- +goose Up
CREATE TABLE reactions (
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	emoji           TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, seq, user_id, emoji)
);
ALTER TABLE messages ADD COLUMN reactions TEXT;
DROP INDEX messages_changed;
CREATE INDEX messages_changed ON messages (conversation_id, mod)
	WHERE edited_at IS NOT NULL OR deleted_at IS NOT NULL OR reactions IS NOT NULL;

-- +goose Down
DROP INDEX messages_changed;
CREATE INDEX messages_changed ON messages (conversation_id, mod)
	WHERE edited_at IS NOT NULL OR deleted_at IS NOT NULL;
ALTER TABLE messages DROP COLUMN reactions;
DROP TABLE reactions;
