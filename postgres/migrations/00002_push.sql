-- Web Push and mentions: the deployment's VAPID key, push subscriptions,
-- pending pushes, each member's notification settings and push progress,
-- and the members a message mentions.

-- +goose Up
ALTER TABLE users ADD COLUMN hide_notification_text boolean NOT NULL DEFAULT false;

-- The time of the oldest text message no push decision has covered yet
-- (NULL: none). Appends set it when unset, in the UPDATE that advances
-- last_seq; while it is set the value does not change, so later appends of
-- the burst leave the index alone (and stay HOT updates).
ALTER TABLE conversations ADD COLUMN notify_from timestamptz;
CREATE INDEX conversations_notify_from ON conversations (notify_from) WHERE notify_from IS NOT NULL;

-- notify_level 'default' is the conversation's default. pushed_seq is the newest
-- seq a push decision has covered for the member.
ALTER TABLE members ADD COLUMN notify_level text NOT NULL DEFAULT 'default'
    CHECK (notify_level IN ('default', 'all', 'mentions', 'off'));
ALTER TABLE members ADD COLUMN muted_until timestamptz;
ALTER TABLE members ADD COLUMN pushed_seq bigint NOT NULL DEFAULT 0;

-- A message's mentions (NULL: none), and one row per mention for the unread
-- mention counts.
ALTER TABLE messages ADD COLUMN mentions bigint[];
CREATE TABLE mentions (
    user_id         bigint NOT NULL,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
);
CREATE INDEX mentions_message ON mentions (conversation_id, seq);

CREATE TABLE vapid_keys (
    id          integer PRIMARY KEY CHECK (id = 1),
    public_key  text NOT NULL,
    private_key text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE push_subscriptions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   text NOT NULL UNIQUE,
    host       text NOT NULL, -- the endpoint's host:port
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    last_used  timestamptz NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_last_used ON push_subscriptions (last_used);

-- A push waiting to be sent to one subscription. held_until: a node is
-- sending it until then.
CREATE TABLE pending_pushes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    payload         bytea NOT NULL,
    urgency         text NOT NULL,
    topic           text NOT NULL DEFAULT '',
    ttl             integer NOT NULL, -- seconds
    since           timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    held_until      timestamptz,
    attempts        integer NOT NULL DEFAULT 0
);
CREATE INDEX pending_pushes_due ON pending_pushes (due_at);
CREATE INDEX pending_pushes_subscription ON pending_pushes (subscription_id);

-- +goose Down
DROP TABLE pending_pushes;
DROP TABLE push_subscriptions;
DROP TABLE vapid_keys;
DROP TABLE mentions;
ALTER TABLE messages DROP COLUMN mentions;
ALTER TABLE members DROP COLUMN pushed_seq;
ALTER TABLE members DROP COLUMN muted_until;
ALTER TABLE members DROP COLUMN notify_level;
ALTER TABLE conversations DROP COLUMN notify_from;
ALTER TABLE users DROP COLUMN hide_notification_text;
