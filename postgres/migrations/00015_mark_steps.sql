-- When members' receipt marks moved, for Message info's times: per member,
-- mark (kind 0: delivered, 1: read) and clock minute (unix time / 60) in
-- which it moved, the seq it reached by the end of that minute. A mark
-- first reached N in the minute of the first row with seq >= N, so times
-- are exact to the minute, and a member's busy minute is one row however
-- many receipts it saw. Kept only for conversations of at most the
-- large-group size; deleted with the membership and the account (no foreign keys: SetMarks
-- writes here on every receipt, and the removal of a member deletes the
-- rows itself; conversations are never deleted).

-- +goose Up
CREATE TABLE mark_steps (
	conversation_id BIGINT NOT NULL,
	user_id         BIGINT NOT NULL,
	kind            SMALLINT NOT NULL,
	minute          BIGINT NOT NULL,
	seq             BIGINT NOT NULL,
	PRIMARY KEY (conversation_id, user_id, kind, minute)
);

-- +goose Down
DROP TABLE mark_steps;
