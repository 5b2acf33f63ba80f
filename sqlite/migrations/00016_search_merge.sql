-- Search: FTS5 merges the index's segments in fewer, wider steps. FTS5
-- keeps the index as levels of segments and, for every 64 leaf pages a
-- commit writes, merges 64 pages per level: the fewer the levels, the less
-- each message is rewritten. automerge 16 (from 4) merges 16 segments of a
-- level at once, so there are about half as many levels;
-- crisismerge 64 (from 16) keeps that merging incremental (at 16, a level
-- reaching 16 segments would be merged whole inside one commit).
-- BenchmarkAppendDirect: about 15 % less CPU per message. A search reads
-- more segments (up to 15 a level instead of 3): a term found nowhere took
-- 0.4-0.6 ms instead of 0.2 ms in 200,000 messages; a common term, as
-- before (50-120 ms on a loaded machine either way). The settings live in
-- messages_fts_config.

-- +goose Up
INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 16);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('crisismerge', 64);

-- +goose Down
INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 4);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('crisismerge', 16);
