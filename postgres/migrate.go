package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate creates the schema named first in the connection's search_path,
// if any, and applies the migrations, all while holding an advisory lock
// whose key is derived from the schema name.
//
// The lock is a session lock taken with the blocking pg_advisory_lock on a
// connection of its own (not from the pool, so a pool of one connection
// cannot deadlock against it); the server releases it if this process dies.
// Nodes migrating the same schema queue on the lock and, once they have it,
// find nothing left to do. Goose runs on the pool through database/sql.
func migrate(ctx context.Context, pool *pgxpool.Pool, cc *pgx.ConnConfig) (err error) {
	schema := targetSchema(cc.RuntimeParams["search_path"])

	lockConn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return err
	}
	defer lockConn.Close(context.WithoutCancel(ctx))

	key := migrationLockKey(schema)
	if _, err := lockConn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// Closing the connection would release the lock too; unlocking
		// explicitly reports a broken connection.
		_, uerr := lockConn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
		if uerr != nil && err == nil {
			err = fmt.Errorf("release migration lock: %w", uerr)
		}
	}()

	if schema != "" {
		// CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when
		// the schema exists, so look first.
		var exists bool
		if err := lockConn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := lockConn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
				return fmt.Errorf("create schema %q: %w", schema, err)
			}
		}
	}

	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx) // a *goose.PartialError unwraps to the cause
	return err
}

// targetSchema returns the first schema named in a search_path value, or ""
// if there is none ("$user" names no particular schema).
func targetSchema(searchPath string) string {
	first, _, _ := strings.Cut(searchPath, ",")
	first = strings.TrimSpace(first)
	if first == "$user" || first == `"$user"` {
		return ""
	}
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		return strings.ReplaceAll(first[1:len(first)-1], `""`, `"`)
	}
	if first == "" {
		return ""
	}
	// Unquoted identifiers fold to lower case in PostgreSQL.
	return strings.ToLower(first)
}

// migrationLockKey is the advisory lock key for migrating schema: distinct
// schemas (a test run each) migrate in parallel.
func migrationLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("parley/migrate\x00" + schema))
	return int64(h.Sum64())
}
