-- Search: an FTS5 index of the text of text messages (external content:
-- the index holds no copy of the text), with the trigram tokenizer, which
-- finds any run of three or more characters in any script, without regard
-- to case. Triggers keep it in the transaction that writes the message: an
-- edit replaces the old text in the index, a deletion (text emptied)
-- removes it.
--
-- Messages stored before this migration are indexed afterwards in batches
-- by the store (search.go, backfill), newest first, beside the sends:
-- search_backfill.done_from is the lowest id from which every message is
-- in the index. The triggers change the index only for messages at or
-- above it (telling FTS5 to delete text it never indexed would corrupt
-- it); the backfill indexes the others as they then stand.

-- +goose Up
CREATE VIRTUAL TABLE messages_fts USING fts5 (
	text,
	content = 'messages',
	content_rowid = 'id',
	tokenize = 'trigram case_sensitive 0'
);

CREATE TABLE search_backfill (
	done_from INTEGER NOT NULL
);
INSERT INTO search_backfill (done_from) SELECT coalesce(max(id), 0) + 1 FROM messages;

-- +goose StatementBegin
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
WHEN new.kind = 'text' AND new.text != ''
BEGIN
	INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN new.kind = 'text' AND old.text IS NOT new.text
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text
		WHERE old.text != '' AND old.id >= (SELECT done_from FROM search_backfill);
	INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text
		WHERE new.text != '' AND new.id >= (SELECT done_from FROM search_backfill);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.kind = 'text' AND old.text != ''
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text
		WHERE old.id >= (SELECT done_from FROM search_backfill);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER messages_search_delete;
DROP TRIGGER messages_search_update;
DROP TRIGGER messages_search_insert;
DROP TABLE search_backfill;
DROP TABLE messages_fts;
