-- Parley's schema on PostgreSQL. Usernames and join codes are ASCII
-- (parley.ValidateUsername, parley.ValidateCode) and use the "C" collation so
-- that they sort by bytes, as in SQLite, and so that the unique indexes on
-- lower(...) also serve prefix searches.

-- +goose Up
CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username           text COLLATE "C" NOT NULL,
    email              text NOT NULL DEFAULT '',
    display_name       text NOT NULL DEFAULT '',
    accepting_messages boolean NOT NULL DEFAULT true,
    password_hash      text NOT NULL,
    created_at         timestamptz NOT NULL,
    last_seen          timestamptz
);
-- Unique without regard to case. An empty email means "no email".
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email <> '';

CREATE TABLE login_failures (
    key       text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);

CREATE TABLE sessions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    user_agent text NOT NULL DEFAULT '',
    ip         text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    last_used  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);

-- A direct conversation records its pair (direct_lo < direct_hi); the unique
-- index makes concurrent creations of one pair meet on one row.
CREATE TABLE conversations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('direct', 'group')),
    name          text NOT NULL DEFAULT '',
    code          text COLLATE "C",
    direct_lo     bigint REFERENCES users (id),
    direct_hi     bigint REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    last_seq      bigint NOT NULL DEFAULT 0,
    last_mod      bigint NOT NULL DEFAULT 0,
    last_activity timestamptz NOT NULL,
    member_count  integer NOT NULL DEFAULT 0,
    CHECK (kind = 'group' OR (code IS NULL AND direct_lo < direct_hi)),
    CHECK (kind = 'direct' OR (direct_lo IS NULL AND direct_hi IS NULL))
);
CREATE UNIQUE INDEX conversations_code_key ON conversations (lower(code));
CREATE UNIQUE INDEX conversations_direct_key ON conversations (direct_lo, direct_hi);

-- join_order breaks ties between equal joined_at times.
CREATE TABLE members (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at       timestamptz NOT NULL,
    join_order      bigint GENERATED ALWAYS AS IDENTITY,
    delivered_seq   bigint NOT NULL DEFAULT 0,
    read_seq        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id),
    CHECK (read_seq <= delivered_seq)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    mod             bigint NOT NULL,
    sender_id       bigint REFERENCES users (id),
    client_msg_id   text,
    kind            text NOT NULL CHECK (kind IN ('text', 'system')),
    body            text NOT NULL DEFAULT '',
    system          jsonb,
    created_at      timestamptz NOT NULL,
    edited_at       timestamptz,
    deleted_at      timestamptz
);
CREATE UNIQUE INDEX messages_seq_key ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_client_msg_id_key ON messages (conversation_id, sender_id, client_msg_id);
CREATE INDEX messages_mod ON messages (conversation_id, mod);

-- +goose Down
DROP TABLE messages;
DROP TABLE members;
DROP TABLE conversations;
DROP TABLE sessions;
DROP TABLE login_failures;
DROP TABLE users;
