-- Removal by an admin is a ban: the person cannot rejoin the group by its
-- code until an admin adds them back (which deletes the row). Who removed
-- them and when are kept for moderation.

-- +goose Up
CREATE TABLE bans (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    banned_at       timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- +goose Down
DROP TABLE bans;
