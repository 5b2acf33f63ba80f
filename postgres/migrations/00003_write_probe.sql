-- One row that readiness checks rewrite, to learn whether the database can
-- still write (a full disk, a read-only standby).

-- +goose Up
CREATE TABLE write_probe (
    id smallint PRIMARY KEY CHECK (id = 1),
    at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE write_probe;
