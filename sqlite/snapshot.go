package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Snapshot writes a consistent copy of the database at path into the new
// file dst with VACUUM INTO, while other processes (a running node) go on
// reading and writing it. The copy holds every transaction committed before
// Snapshot's read began and none after; it is compact (vacuumed) and in
// rollback-journal mode, with no WAL beside it. Snapshot never writes to
// the database: it opens it read-only and takes no write lock. dst must not
// exist.
//
// While the copy is made, the database's WAL cannot be checkpointed past
// the snapshot, so it grows with the writes made meanwhile.
func Snapshot(ctx context.Context, path, dst string) error {
	db, err := openReadOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("sqlite: snapshot: %s exists", dst)
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("sqlite: snapshot of %s: %w", path, err)
	}
	return nil
}

// openReadOnly opens an existing database file for reading only: a missing
// file is an error, not a new database.
func openReadOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sqlite: no database at %s", path)
		}
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+fmt.Sprintf("?mode=ro&_busy_timeout=%d", busyTimeout.Milliseconds()))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// FileInfo is what Inspect finds in a database file.
type FileInfo struct {
	// Schema is the newest migration applied (0: none).
	Schema int64
	// BlobKeys are the blobs the database's records use (refs > 0).
	BlobKeys []string
}

// Inspect checks the database file at path (PRAGMA quick_check) and reads
// its schema version and the blobs it uses. It opens the file read-only.
func Inspect(ctx context.Context, path string) (FileInfo, error) {
	var info FileInfo
	db, err := openReadOnly(path)
	if err != nil {
		return info, err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return info, fmt.Errorf("sqlite: %s is not a readable database: %w", path, err)
	}
	if check != "ok" {
		return info, fmt.Errorf("sqlite: %s is damaged: %s", path, check)
	}
	var schema sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&schema); err != nil {
		return info, fmt.Errorf("sqlite: %s is not a Parley database: %w", path, err)
	}
	info.Schema = schema.Int64
	if info.Schema < 6 { // before uploads: no blobs table
		return info, nil
	}
	rows, err := db.QueryContext(ctx, "SELECT key FROM blobs WHERE refs > 0")
	if err != nil {
		return info, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return info, err
		}
		info.BlobKeys = append(info.BlobKeys, k)
	}
	return info, rows.Err()
}

// LatestSchema is the newest migration this build knows: a database with a
// newer schema was written by a newer Parley.
func LatestSchema() int64 {
	entries, _ := fs.ReadDir(migrations, "migrations")
	var latest int64
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		if n, err := strconv.ParseInt(num, 10, 64); err == nil && n > latest {
			latest = n
		}
	}
	return latest
}
