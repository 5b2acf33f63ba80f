-- Pinned messages per conversation, and each person's chat list settings
-- (pinned to the top, archived, marked unread).

-- +goose Up
CREATE TABLE pins (
	conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             BIGINT NOT NULL,
	pinned_by       BIGINT NOT NULL,
	pinned_at       TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (conversation_id, seq)
);
CREATE TABLE chat_list (
	user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	pinned_at       TIMESTAMPTZ,
	archived_at     TIMESTAMPTZ,
	marked_unread   BOOLEAN NOT NULL DEFAULT false,
	PRIMARY KEY (user_id, conversation_id)
);

-- +goose Down
DROP TABLE chat_list;
DROP TABLE pins;
