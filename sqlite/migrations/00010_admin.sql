-- Instance administration: instance roles and disabled accounts,
-- invitations (sign-up policy "invite"), one-time password reset links and
-- reports of messages to the instance's admins.

-- +goose Up
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member'));
ALTER TABLE users ADD COLUMN disabled_at INTEGER; -- NULL: enabled
-- An instance made before roles existed gets its first account as admin.
UPDATE users SET role = 'admin' WHERE id = (SELECT min(id) FROM users);

CREATE TABLE invitations (
	id         INTEGER PRIMARY KEY,
	code       TEXT    NOT NULL UNIQUE,
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL, -- NULL: `parley admin`
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	max_uses   INTEGER NOT NULL,
	uses       INTEGER NOT NULL DEFAULT 0,
	revoked_at INTEGER
);
CREATE INDEX invitations_creator ON invitations (created_by, id);

CREATE TABLE password_resets (
	token_hash BLOB    PRIMARY KEY,
	user_id    INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);

CREATE TABLE reports (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	sender_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
	reporter_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
	reason          TEXT    NOT NULL DEFAULT '',
	text            TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	resolved_at     INTEGER,
	resolved_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
	action          TEXT    NOT NULL DEFAULT '',
	UNIQUE (conversation_id, seq, reporter_id)
);
CREATE INDEX reports_open ON reports (id) WHERE resolved_at IS NULL;

-- +goose Down
DROP TABLE reports;
DROP TABLE password_resets;
DROP TABLE invitations;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN role;
