-- Pruning deletes attempts and sessions by age (parley.PruneStore).

-- +goose Up
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP INDEX sessions_expires;
DROP INDEX login_failures_failed_at;
