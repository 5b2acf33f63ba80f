// Package postgres implements parley.Store on PostgreSQL with pgx, for
// deployments of several Parley nodes sharing one database.
//
// Concurrency invariants (all transactions run at READ COMMITTED):
//
//   - Every change to a conversation's history (a new message, an edit, a
//     deletion, a membership change) first locks the conversation's row and
//     keeps the lock until its commit. Writers of one conversation are
//     serialized by that lock, which is what makes seq gap-free and unique,
//     makes a resent client_msg_id meet the original, and keeps member
//     counts and owners consistent.
//   - Lock order: the conversation row, then member rows, then message rows.
//     SetMarks locks only the member row and reads the conversation without
//     locking it, so it cannot take part in a cycle.
//   - A statement that must see what a concurrent writer committed runs
//     after the statement that took the lock: at READ COMMITTED each
//     statement takes a fresh snapshot.
//
// The Store keeps no state besides the pgx pool, which drops broken
// connections and dials new ones, so a Store recovers by itself when the
// database comes back.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"parley"
)

// DefaultConnectTimeout bounds one attempt to connect when the URL sets no
// connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// Store is a parley.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	appender *appender
	// stop ends the search index build (buildSearchIndex), bg waits for it.
	stop context.CancelFunc
	bg   sync.WaitGroup
}

var _ parley.Store = (*Store)(nil)

// Open connects to the database at url, applies the embedded migrations and
// returns a Store.
//
// url is a libpq connection URL or key=value string as pgx accepts it,
// pool_* parameters included. If it sets the runtime parameter search_path
// (postgres://…/db?search_path=parley), the first schema named there is
// created if it does not exist and holds Parley's tables; otherwise the
// tables go where the server's search_path puts them.
//
// Migrations run under a PostgreSQL advisory lock, so several nodes may start
// at the same time: one applies them, the others wait and find them done.
//
// When the database cannot be reached, Open fails with an error whose
// parley.ErrorCode is EUNAVAILABLE.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool, cfg.ConnConfig); err != nil {
		pool.Close()
		return nil, mapError(fmt.Errorf("postgres: migrate: %w", err))
	}
	// The committers of appends leave one connection to the other queries.
	committers := max(1, int(cfg.MaxConns)-1)
	s := &Store{pool: pool, appender: newAppender(pool, committers)}
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	s.bg.Go(func() { s.buildSearchIndex(bctx, slog.Default()) })
	return s, nil
}

// Close waits for the appends being committed and closes the pool. Later
// calls give EUNAVAILABLE.
func (s *Store) Close() error {
	s.stop()
	s.bg.Wait()
	s.appender.close()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return mapError(s.pool.Ping(ctx))
}

// CheckWrite rewrites the probe row.
func (s *Store) CheckWrite(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO write_probe (id, at) VALUES (1, now())
		ON CONFLICT (id) DO UPDATE SET at = excluded.at`)
	return mapError(err)
}

// Pool returns the underlying pool, for tools and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction, committing if it returns nil. Errors are
// mapped with mapError.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return mapError(pgx.BeginFunc(ctx, s.pool, fn))
}

// Constraint names, from the migrations, that unique violations are mapped by.
const (
	usernameKey    = "users_username_key"
	emailKey       = "users_email_key"
	codeKey        = "conversations_code_key"
	clientMsgIDKey = "messages_client_msg_id_key"
)

// mapError turns a driver error into what the parley.Store contract promises:
// *parley.Error values pass unchanged, a lost or refused database becomes
// parley.ErrUnavailable, known unique and foreign key violations become their
// codes. Anything else stays an internal error. The driver error stays in the
// chain for logs; clients only ever see the code and parley.ErrorMessage.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var perr *parley.Error
	if errors.As(err, &perr) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.ErrNotFound
	}
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			switch pgErr.ConstraintName {
			case usernameKey:
				return parley.Errorf(parley.EUSERNAMETAKEN, "This username is taken.")
			case emailKey:
				return parley.Errorf(parley.EEMAILTAKEN, "This email is already registered.")
			case codeKey:
				return parley.Errorf(parley.ECODETAKEN, "This code is taken.")
			}
			return fmt.Errorf("%w: %w", parley.Errorf(parley.ECONFLICT, "Conflict."), err)
		case "23503": // foreign_key_violation: a user or conversation that does not exist
			return fmt.Errorf("%w: %w", parley.ErrNotFound, err)
		}
	}
	return err
}

// isUnavailable reports whether err means the database could not be reached
// or went away: the request may succeed when retried later.
func isUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true // refused, unreachable, timed out, or refused us (auth, no such database)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection_exception
			return true
		case pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02",               // crash_shutdown
			pgErr.Code == "57P03",               // cannot_connect_now
			strings.HasPrefix(pgErr.Code, "53"), // insufficient_resources: disk_full, out_of_memory, too_many_connections
			pgErr.Code == "25006":               // read_only_sql_transaction: a standby, e.g. mid-failover
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, puddle.ErrClosedPool) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// utc returns t as the store keeps times: UTC, truncated to microseconds.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcp is utc for an optional time.
func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}
