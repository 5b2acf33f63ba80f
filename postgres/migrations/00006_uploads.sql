-- Uploads, attachments, profile and group photos, and the reference counts
-- of the blobs (file bytes, content-addressed) they use.

-- +goose Up
-- One row per blob in use or being deleted. refs counts the records that
-- use it (uploads.blob_key, uploads.thumb_key, users.avatar_key,
-- conversations.photo_key); 0 means doomed: a deleter leases it
-- (lease_until), deletes the bytes and removes the row.
CREATE TABLE blobs (
    key         text PRIMARY KEY,
    refs        integer NOT NULL,
    size        bigint NOT NULL,
    lease_until timestamptz
);
CREATE INDEX blobs_doomed ON blobs (key) WHERE refs = 0;

CREATE TABLE uploads (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id        bigint NOT NULL REFERENCES users (id),
    blob_key        text NOT NULL,
    name            text NOT NULL,
    size            bigint NOT NULL,
    content_type    text NOT NULL,
    width           integer NOT NULL DEFAULT 0,
    height          integer NOT NULL DEFAULT 0,
    duration        double precision NOT NULL DEFAULT 0, -- seconds
    thumb_key       text,
    created_at      timestamptz NOT NULL,
    -- Set when attached; the message's conversation decides who may fetch it.
    conversation_id bigint,
    message_id      bigint
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX uploads_orphan ON uploads (created_at) WHERE message_id IS NULL;

-- The attachments a message carries, as the API shows them (list of
-- parley.Attachment); NULL: none.
ALTER TABLE messages ADD COLUMN attachments jsonb;
ALTER TABLE users ADD COLUMN avatar_key text;
ALTER TABLE conversations ADD COLUMN photo_key text;

-- +goose Down
ALTER TABLE conversations DROP COLUMN photo_key;
ALTER TABLE users DROP COLUMN avatar_key;
ALTER TABLE messages DROP COLUMN attachments;
DROP TABLE uploads;
DROP TABLE blobs;
