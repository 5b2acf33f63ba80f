-- Search: the writer adds new messages to the index in large batches
-- (sqlite/append.go, indexNew) instead of with every batch of sends, and
-- a search has the waiting ones added first. search_backfill.done_to is
-- one past the highest id indexed so far: the index holds the text
-- messages from done_from (the backfill of older ones, 00012) up to it.
-- The triggers change the index only for messages in that range (telling
-- FTS5 to delete text it never indexed would corrupt it); a message edited
-- or deleted above it is indexed as it then stands.

-- +goose Up
ALTER TABLE search_backfill ADD COLUMN done_to INTEGER NOT NULL DEFAULT 0;
UPDATE search_backfill SET done_to = (SELECT coalesce(max(id), 0) + 1 FROM messages);

DROP TRIGGER messages_search_update;
-- +goose StatementBegin
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN new.kind = 'text' AND old.text IS NOT new.text
	AND old.id >= (SELECT done_from FROM search_backfill) AND old.id < (SELECT done_to FROM search_backfill)
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text != '';
	INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text != '';
END;
-- +goose StatementEnd

DROP TRIGGER messages_search_delete;
-- +goose StatementBegin
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.kind = 'text' AND old.text != ''
	AND old.id >= (SELECT done_from FROM search_backfill) AND old.id < (SELECT done_to FROM search_backfill)
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
-- +goose StatementEnd

-- +goose Down
-- Every message is indexed again as it is stored (00013): add the waiting ones.
INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages
	WHERE id >= (SELECT done_to FROM search_backfill) AND kind = 'text' AND text != '';

DROP TRIGGER messages_search_update;
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

DROP TRIGGER messages_search_delete;
-- +goose StatementBegin
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.kind = 'text' AND old.text != ''
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text
		WHERE old.id >= (SELECT done_from FROM search_backfill);
END;
-- +goose StatementEnd

ALTER TABLE search_backfill DROP COLUMN done_to;
