-- One row that readiness checks rewrite, to learn whether the database can
-- still write (a full disk fails every write, reads go on).

-- +goose Up
CREATE TABLE write_probe (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE write_probe;
