-- Forwarded messages carry a mark (and nothing else of the original).

-- +goose Up
ALTER TABLE messages ADD COLUMN forwarded INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE messages DROP COLUMN forwarded;
