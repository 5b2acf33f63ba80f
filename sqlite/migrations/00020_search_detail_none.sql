-- Search: the index keeps which messages hold each trigram, not where
-- (FTS5 detail=none): a term selects the messages that hold all of its
-- trigrams, and the query then checks the text for the term itself
-- (sqlite/search.go). Positions were most of what FTS5 wrote and merged for
-- every message. The index is built again: every message is re-indexed by
-- the backfill, newest first, beside the sends (search_backfill.done_from,
-- see 00012); until it reaches a message, searches do not find it.

-- +goose Up
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
	text,
	content = 'messages',
	content_rowid = 'id',
	tokenize = 'trigram case_sensitive 0',
	detail = none
);
UPDATE search_backfill SET
	done_from = (SELECT coalesce(max(id), 0) + 1 FROM messages),
	done_to = (SELECT coalesce(max(id), 0) + 1 FROM messages);

-- +goose Down
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
	text,
	content = 'messages',
	content_rowid = 'id',
	tokenize = 'trigram case_sensitive 0'
);
UPDATE search_backfill SET
	done_from = (SELECT coalesce(max(id), 0) + 1 FROM messages),
	done_to = (SELECT coalesce(max(id), 0) + 1 FROM messages);
