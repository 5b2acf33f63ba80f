-- Parley's schema. Times are UTC unix microseconds (INTEGER). Usernames,
-- emails and join codes are unique without regard to case (COLLATE NOCASE:
-- usernames and codes are ASCII; emails are stored normalized).

-- +goose Up
CREATE TABLE users (
	id                 INTEGER PRIMARY KEY,
	username           TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	email              TEXT    COLLATE NOCASE UNIQUE, -- NULL: no email
	display_name       TEXT    NOT NULL DEFAULT '',
	password_hash      TEXT    NOT NULL,
	accepting_messages INTEGER NOT NULL DEFAULT 1,
	created_at         INTEGER NOT NULL,
	last_seen          INTEGER
);

CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash BLOB    NOT NULL UNIQUE,
	user_agent TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_used  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, last_used);

CREATE TABLE login_failures (
	key TEXT    NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE conversations (
	id            INTEGER PRIMARY KEY,
	kind          TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
	name          TEXT    NOT NULL DEFAULT '',
	code          TEXT    COLLATE NOCASE UNIQUE, -- groups only
	-- A direct conversation's users, lower id first: one conversation per pair.
	direct_lo     INTEGER REFERENCES users (id),
	direct_hi     INTEGER REFERENCES users (id),
	created_at    INTEGER NOT NULL,
	last_seq      INTEGER NOT NULL DEFAULT 0,
	last_mod      INTEGER NOT NULL DEFAULT 0,
	last_activity INTEGER NOT NULL,
	member_count  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (direct_lo, direct_hi)
);

CREATE TABLE members (
	id              INTEGER PRIMARY KEY, -- join order within equal joined_at
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	user_id         INTEGER NOT NULL REFERENCES users (id),
	role            TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
	joined_at       INTEGER NOT NULL,
	delivered_seq   INTEGER NOT NULL DEFAULT 0,
	read_seq        INTEGER NOT NULL DEFAULT 0,
	UNIQUE (conversation_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	mod             INTEGER NOT NULL,
	sender_id       INTEGER REFERENCES users (id), -- NULL: system message without actor
	client_msg_id   TEXT,                          -- NULL: none
	kind            TEXT    NOT NULL CHECK (kind IN ('text', 'system')),
	text            TEXT    NOT NULL DEFAULT '',
	system          TEXT,                          -- JSON of parley.SystemInfo
	created_at      INTEGER NOT NULL,
	edited_at       INTEGER,
	deleted_at      INTEGER,
	UNIQUE (conversation_id, seq)
);
-- Exactly once: a sender's client_msg_id is stored once per conversation.
-- (NULLs are distinct in a UNIQUE index: system messages are not limited.)
CREATE UNIQUE INDEX messages_client_msg_id ON messages (conversation_id, sender_id, client_msg_id);
-- Changes: edited or deleted messages by mod.
CREATE INDEX messages_changed ON messages (conversation_id, mod)
	WHERE edited_at IS NOT NULL OR deleted_at IS NOT NULL;

-- +goose Down
DROP TABLE messages;
DROP TABLE members;
DROP TABLE conversations;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
