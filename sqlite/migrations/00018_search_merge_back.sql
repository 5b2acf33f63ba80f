-- Search: FTS5 merges the index's segments as it did before 00016
-- (automerge 4, crisismerge 16). With 16 and 64, pinned pairs at 4,000
-- msg/s (small commits, each writing its own segment) fell behind with the
-- server's core half idle: p99 1.0-1.6 s became 3-7 s and sends met the
-- store timeout. Back at 4 and 16, on the same build: p99 1.4 s, complete,
-- and at 10,000 msg/s p99 2.1 s instead of 2.75 s (docs/performance.md,
-- "Pinned again").

-- +goose Up
INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 4);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('crisismerge', 16);

-- +goose Down
INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 16);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('crisismerge', 64);
