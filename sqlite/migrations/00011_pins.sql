-- Pinned messages per conversation, and each person's chat list settings
-- (pinned to the top, archived, marked unread).

-- +goose Up
CREATE TABLE pins (
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	pinned_by       INTEGER NOT NULL,
	pinned_at       INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, seq)
);
CREATE TABLE chat_list (
	user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	pinned_at       INTEGER,
	archived_at     INTEGER,
	marked_unread   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, conversation_id)
);

-- +goose Down
DROP TABLE chat_list;
DROP TABLE pins;
