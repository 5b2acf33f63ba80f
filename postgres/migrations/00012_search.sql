-- Search: a pg_trgm GIN index of the folded text of text messages that are
-- not deleted. It serves lower(body) LIKE '%term%' for any term of three
-- characters or more, in any script; PostgreSQL keeps it in the
-- transaction that writes the message (an edit or a deletion replaces the
-- row's entry).
--
-- pg_trgm is installed in schema public unless the database has it already
-- (it is a trusted extension: the database's owner may install it); the
-- index names its operator class in the extension's schema, so Parley's
-- own schema may be any. An advisory lock keeps nodes (or tests) migrating
-- several schemas at once from installing it twice.
--
-- On a table of more than 100,000 messages the index is not built here,
-- where it would hold back sends for the whole build: the store builds it
-- with CREATE INDEX CONCURRENTLY when it opens (postgres/search.go), and
-- searches are slower, not wrong, until it is done.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
	trgm name;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('parley/pg_trgm'));
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
		CREATE EXTENSION pg_trgm SCHEMA public;
	END IF;
	SELECT extnamespace::regnamespace::name INTO trgm FROM pg_extension WHERE extname = 'pg_trgm';
	IF (SELECT count(*) FROM (SELECT 1 FROM messages LIMIT 100001) t) <= 100000 THEN
		EXECUTE format('CREATE INDEX messages_search ON messages USING gin (lower(body) %I.gin_trgm_ops)
			WHERE kind = ''text'' AND deleted_at IS NULL', trgm);
	END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS messages_search;
