-- Search: new messages are indexed by the writer, one statement per batch
-- of appends (sqlite/append.go, indexNew), instead of by a trigger per
-- message: FTS5 writes an index segment at the start of every statement
-- that changes it, so the trigger cost a segment per message. Edits and
-- deletions keep their triggers (00012_search.sql).

-- +goose Up
DROP TRIGGER messages_search_insert;

-- +goose Down
-- +goose StatementBegin
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
WHEN new.kind = 'text' AND new.text != ''
BEGIN
	INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
-- +goose StatementEnd
