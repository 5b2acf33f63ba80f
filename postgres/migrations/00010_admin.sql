-- Instance administration: instance roles and disabled accounts,
-- invitations (sign-up policy "invite"), one-time password reset links and
-- reports of messages to the instance's admins.

-- +goose Up
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member'));
ALTER TABLE users ADD COLUMN disabled_at timestamptz; -- NULL: enabled
-- An instance made before roles existed gets its first account as admin.
UPDATE users SET role = 'admin' WHERE id = (SELECT min(id) FROM users);

CREATE TABLE invitations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL, -- NULL: `parley admin`
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    max_uses   integer NOT NULL,
    uses       integer NOT NULL DEFAULT 0,
    revoked_at timestamptz
);
CREATE INDEX invitations_creator ON invitations (created_by, id);

CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE reports (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    sender_id       bigint REFERENCES users (id) ON DELETE SET NULL,
    reporter_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    reason          text NOT NULL DEFAULT '',
    text            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolved_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    action          text NOT NULL DEFAULT '',
    UNIQUE (conversation_id, seq, reporter_id)
);
CREATE INDEX reports_open ON reports (id) WHERE resolved_at IS NULL;

-- +goose Down
DROP TABLE reports;
DROP TABLE password_resets;
DROP TABLE invitations;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN role;
