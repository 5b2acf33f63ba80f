-- Accounts people manage themselves: deletion and blocks.
--
-- A deleted account keeps its row (its messages keep their sender): its
-- username becomes '~' || id (no sign-up can take that form), its display
-- name 'Deleted account', and deleted_at is set. Its old username waits in
-- retired_usernames until `until` before anyone can sign up with it.
--
-- blocks: blocker_id does not take direct messages or calls from
-- blocked_id.

-- +goose Up
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
CREATE TABLE retired_usernames (
    username text COLLATE "C" NOT NULL,
    until    timestamptz NOT NULL
);
CREATE UNIQUE INDEX retired_usernames_key ON retired_usernames (lower(username));
CREATE TABLE blocks (
    blocker_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

-- +goose Down
DROP TABLE blocks;
DROP TABLE retired_usernames;
ALTER TABLE users DROP COLUMN deleted_at;
