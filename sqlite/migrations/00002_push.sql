-- Web Push and mentions: the deployment's VAPID key, push subscriptions,
-- pending pushes, each member's notification settings and push progress,
-- and the members a message mentions.

-- +goose Up
ALTER TABLE users ADD COLUMN hide_notification_text INTEGER NOT NULL DEFAULT 0;

-- The time of the oldest text message no push decision has covered yet
-- (NULL: none). Appends set it when unset; the push decision takes the
-- conversations where it is older than the push delay.
ALTER TABLE conversations ADD COLUMN notify_from INTEGER;
CREATE INDEX conversations_notify_from ON conversations (notify_from) WHERE notify_from IS NOT NULL;

-- notify_level 'default' is the conversation's default. pushed_seq is the newest
-- seq a push decision has covered for the member.
ALTER TABLE members ADD COLUMN notify_level TEXT NOT NULL DEFAULT 'default'
	CHECK (notify_level IN ('default', 'all', 'mentions', 'off'));
ALTER TABLE members ADD COLUMN muted_until INTEGER;
ALTER TABLE members ADD COLUMN pushed_seq INTEGER NOT NULL DEFAULT 0;

-- A message's mentions as a JSON list of user ids (NULL: none), and one row
-- per mention for the unread mention counts.
ALTER TABLE messages ADD COLUMN mentions TEXT;
CREATE TABLE mentions (
	user_id         INTEGER NOT NULL,
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	PRIMARY KEY (user_id, conversation_id, seq)
) WITHOUT ROWID;
CREATE INDEX mentions_message ON mentions (conversation_id, seq);

CREATE TABLE vapid_keys (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	public_key  TEXT    NOT NULL,
	private_key TEXT    NOT NULL,
	created_at  INTEGER NOT NULL
);

CREATE TABLE push_subscriptions (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	endpoint   TEXT    NOT NULL UNIQUE,
	host       TEXT    NOT NULL, -- the endpoint's host:port
	p256dh     TEXT    NOT NULL,
	auth       TEXT    NOT NULL,
	label      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_used  INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_last_used ON push_subscriptions (last_used);

-- A push waiting to be sent to one subscription. held_until: a node is
-- sending it until then.
CREATE TABLE pending_pushes (
	id              INTEGER PRIMARY KEY,
	subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
	payload         BLOB    NOT NULL,
	urgency         TEXT    NOT NULL,
	topic           TEXT    NOT NULL DEFAULT '',
	ttl             INTEGER NOT NULL, -- seconds
	since           INTEGER NOT NULL,
	due_at          INTEGER NOT NULL,
	held_until      INTEGER,
	attempts        INTEGER NOT NULL DEFAULT 0
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
DROP INDEX conversations_notify_from;
ALTER TABLE conversations DROP COLUMN notify_from;
ALTER TABLE users DROP COLUMN hide_notification_text;
