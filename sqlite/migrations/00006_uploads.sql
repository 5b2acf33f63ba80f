-- Uploads, attachments, profile and group photos, and the reference counts
-- of the blobs (file bytes, content-addressed) they use.

-- +goose Up
-- One row per blob in use or being deleted. refs counts the records that
-- use it (uploads.blob_key, uploads.thumb_key, users.avatar_key,
-- conversations.photo_key); 0 means doomed: a deleter leases it
-- (lease_until, µs), deletes the bytes and removes the row.
CREATE TABLE blobs (
	key         TEXT    PRIMARY KEY,
	refs        INTEGER NOT NULL,
	size        INTEGER NOT NULL,
	lease_until INTEGER
) WITHOUT ROWID;
CREATE INDEX blobs_doomed ON blobs (key) WHERE refs = 0;

CREATE TABLE uploads (
	id              INTEGER PRIMARY KEY,
	owner_id        INTEGER NOT NULL REFERENCES users (id),
	blob_key        TEXT    NOT NULL,
	name            TEXT    NOT NULL,
	size            INTEGER NOT NULL,
	content_type    TEXT    NOT NULL,
	width           INTEGER NOT NULL DEFAULT 0,
	height          INTEGER NOT NULL DEFAULT 0,
	duration        REAL    NOT NULL DEFAULT 0, -- seconds
	thumb_key       TEXT,
	created_at      INTEGER NOT NULL,
	-- Set when attached; the message's conversation decides who may fetch it.
	conversation_id INTEGER,
	message_id      INTEGER
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX uploads_orphan ON uploads (created_at) WHERE message_id IS NULL;

-- The attachments a message carries, as the API shows them (JSON list of
-- parley.Attachment); NULL: none.
ALTER TABLE messages ADD COLUMN attachments TEXT;
ALTER TABLE users ADD COLUMN avatar_key TEXT;
ALTER TABLE conversations ADD COLUMN photo_key TEXT;

-- +goose Down
ALTER TABLE conversations DROP COLUMN photo_key;
ALTER TABLE users DROP COLUMN avatar_key;
ALTER TABLE messages DROP COLUMN attachments;
DROP TABLE uploads;
DROP TABLE blobs;
