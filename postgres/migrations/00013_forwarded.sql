-- Forwarded messages carry a mark (and nothing else of the original).

-- +goose Up
ALTER TABLE messages ADD COLUMN forwarded BOOLEAN NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE messages DROP COLUMN forwarded;
