// Package sqlite implements parley.Store on SQLite (modernc.org/sqlite, pure
// Go), the default store of a single-machine deployment.
//
// # Connections and group commit
//
// The database runs in WAL mode with synchronous=FULL, so a commit is on disk
// when it returns. Reads go to a pool of read-only connections, which WAL lets
// run beside the writer. Every write goes through one goroutine, the writer,
// which owns the only write connection:
//
//   - a write is a function of a transaction, handed to the writer over an
//     unbuffered channel;
//   - the writer takes the first waiting write and every other write waiting
//     at that moment (up to maxBatch), and runs them in ONE transaction, each
//     inside its own SAVEPOINT, so a write that fails (a non-member's send, a
//     taken username) is rolled back alone;
//   - after the COMMIT, and only then, each caller gets its result. If the
//     commit fails, every write of the batch fails.
//
// One fsync thus covers a whole batch of sends, which is what lets SQLite go
// past a few thousand sends per second. Because the writer is the only
// writer, a read-then-write inside a write function needs no locking (no
// lost updates, no SQLITE_BUSY between Parley's own writes).
//
// Writes run with a context that is never canceled: interrupting a statement
// would roll back the whole batch. A caller whose context ends while its write
// waits gets the context's error, and its write may or may not be committed
// (a resend with the same client_msg_id finds out).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"parley"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch caps the writes committed in one transaction. A commit's cost
// is mostly its fsync, which grows slowly with the pages written, so a
// writer that falls behind catches up by committing more at once: with
// 2,000 sends waiting (one per connection of 'parley bench pairs'), a cap
// of 256 left each commit waiting for the previous one's fsync.
const maxBatch = 2048

// walCheckpointPages is how many pages the WAL may hold before the writer,
// after a commit, copies them into the database file (a checkpoint).
// SQLite's default, 1000, copies a page that many commits change (a
// conversation's row, an index's last leaf) again and again; with 4000 each
// is copied once for four times as many commits. BenchmarkAppendDirect:
// 70-77 to 54-62 µs of CPU per message; the WAL file grows to about 16 MiB.
const walCheckpointPages = 4000

// writeCacheKiB is the page cache of the write connection, in KiB (SQLite's
// default is 2,000 KiB). A batch of a thousand sends changes a leaf of each
// index for nearly every conversation it touches, its conversation rows and
// its senders' member rows: with the default cache, SQLite wrote pages to
// the WAL in the middle of the transaction to make room and read them back
// (BenchmarkAppendDirect with 2,000 senders, 200,000 messages: 14 % of the
// CPU in cache spills and page reads). The cache fills only as pages are
// used, and is kept between transactions (this connection is the only
// writer).
const writeCacheKiB = 64 << 10

// busyTimeout is how long a connection waits for a lock held by another
// process (a backup, the sqlite3 shell) before giving up. A variable for
// tests.
var busyTimeout = 10 * time.Second

// Store is a parley.Store on one SQLite database file.
type Store struct {
	w  *sql.DB // the one write connection; used by the writer goroutine only
	r  *sql.DB // read-only pool
	rd *reader // prepared statements on r

	// prepared, missed, cache and hooked belong to the writer goroutine
	// (see wtx and append.go).
	prepared map[string]*sql.Stmt
	missed   map[string]struct{}
	cache    *wcache
	hooked   any // the driver connection the cache's hook is on

	writes chan *writeReq
	quit   chan struct{}  // closed by Close: stop taking writes
	done   chan struct{}  // closed by the writer when it has stopped
	bg     sync.WaitGroup // the search backfill

	// Counters of committed transactions and the writes in them.
	batches, batched atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

var _ parley.Store = (*Store)(nil)

// writeReq is one write waiting for the writer: an append (nm set) or a
// function of the transaction.
type writeReq struct {
	ctx context.Context // only checked before running it
	fn  func(ctx context.Context, tx *wtx) error
	nm  *parley.NewMessage
	res chan error // buffered: the writer never blocks on it

	// An append's outcome, set before res is sent.
	msg     parley.Message
	created bool
}

// Open opens the database at path, creating the file and its directory if
// needed, and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	go s.writer()
	// The search backfill (search.go) writes through the writer: Close
	// waits for it before the writer stops taking writes.
	s.bg.Go(func() { s.backfill(slog.Default()) })
	return s, nil
}

// open is Open without starting the writer.
func open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1", busyTimeout.Milliseconds())

	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=cache_size(-%d)", walCheckpointPages, writeCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}

	col := memberConvColumn(ctx, w)
	s := &Store{
		w:        w,
		r:        r,
		rd:       &reader{db: r, m: map[string]*sql.Stmt{}},
		prepared: map[string]*sql.Stmt{},
		missed:   map[string]struct{}{},
		cache:    newCache(),
		writes:   make(chan *writeReq),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.cache.memberConvCol = col
	// Messages may wait for the search index since the last run (indexNew).
	s.cache.unindexed.Store(1)
	return s, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Close stops the writer, after it has committed the batch it is running,
// and closes the database. Writes not yet taken by the writer fail with
// parley.ErrUnavailable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		s.bg.Wait()
		<-s.done
		s.unhook()
		for _, st := range s.prepared {
			st.Close()
		}
		s.rd.mu.Lock()
		for _, st := range s.rd.m {
			st.Close()
		}
		s.rd.mu.Unlock()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.quit:
		return parley.ErrUnavailable
	default:
	}
	var one int
	return dbErr(s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one))
}

// CheckWrite rewrites the probe row through the writer, like any write.
func (s *Store) CheckWrite(ctx context.Context) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO write_probe (id, at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at`, ts(time.Now()))
		return err
	})
}

// write runs fn in the writer's current transaction and returns its error,
// or the commit's, once the transaction has committed or failed. fn may be
// called with other writes before and after it in the same transaction; it
// must leave results in variables the caller reads only when write returns
// nil.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	return s.submit(&writeReq{ctx: ctx, fn: fn, res: make(chan error, 1)})
}

// submit hands req to the writer and waits for its outcome.
func (s *Store) submit(req *writeReq) error {
	ctx := req.ctx
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return parley.ErrUnavailable
	}
	select {
	case err := <-req.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer is the goroutine that owns the write connection.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*writeReq, 0, maxBatch)
	// Armed when messages wait for the search index: indexIdle later they
	// are added, if no batch reached indexBatch first.
	index := time.NewTimer(indexIdle)
	index.Stop()
	armed := false
	for {
		if !armed && s.cache.unindexed.Load() > 0 {
			index.Reset(indexIdle)
			armed = true
		}
		select {
		case req := <-s.writes:
			batch = append(batch[:0], req)
		case <-index.C:
			armed = false
			if s.cache.unindexed.Load() > 0 {
				s.commit([]*writeReq{{ctx: context.Background(), fn: indexNewWrite, res: make(chan error, 1)}})
			}
			continue
		case <-s.quit:
			index.Stop()
			return
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break collect
			}
		}
		s.commit(batch)
		clear(batch) // drop references to finished requests
	}
}

// commit runs a batch of writes in one transaction and answers each caller
// after the commit.
func (s *Store) commit(batch []*writeReq) {
	ctx := context.Background() // never canceled: see the package comment
	errs := make([]error, len(batch))
	failAll := func(err error) {
		err = dbErr(err)
		for i := range errs {
			errs[i] = err
		}
		s.cache.reset() // it may hold what the transaction undid
	}

	conn, err := s.conn(ctx)
	if err != nil {
		failAll(err)
	} else {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			failAll(err)
		} else if err := s.runBatch(ctx, &wtx{tx: tx, prepared: s.prepared, missed: s.missed, c: s.cache}, batch, errs); err != nil {
			tx.Rollback()
			failAll(err)
		} else if err := tx.Commit(); err != nil {
			failAll(err)
		} else {
			s.batches.Add(1)
			s.batched.Add(int64(len(batch)))
		}
		conn.Close()
	}
	for i, req := range batch {
		req.res <- errs[i]
	}
	if len(s.missed) > 0 {
		s.prepareMissed()
	}
}

// conn returns the write connection with the cache's hook on it. The pool
// keeps its one connection for good; should it ever open another, the hook
// moves there and the cache starts over.
func (s *Store) conn(ctx context.Context) (*sql.Conn, error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	err = conn.Raw(func(dc any) error {
		if dc == s.hooked {
			return nil
		}
		hr, ok := dc.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("sqlite: driver connection %T takes no hooks", dc)
		}
		hr.RegisterPreUpdateHook(s.cache.hook)
		s.hooked = dc
		s.cache.reset()
		return nil
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// unhook removes the cache's hook from the write connection.
func (s *Store) unhook() {
	if s.hooked == nil {
		return
	}
	if conn, err := s.w.Conn(context.Background()); err == nil {
		conn.Raw(func(dc any) error {
			if hr, ok := dc.(sqlite.HookRegisterer); ok && dc == s.hooked {
				hr.RegisterPreUpdateHook(nil)
			}
			return nil
		})
		conn.Close()
	}
	s.hooked = nil
}

// runBatch runs the batch's appends (see append.go) and, each inside its
// own savepoint, its other writes, recording each one's error in errs. The
// writer's cached heads are written before each other write and at the end.
// It returns an error, and the transaction must be rolled back, if the
// transaction itself failed (SQLite rolls back a transaction on some
// errors, such as a full disk; the savepoint is then gone).
func (s *Store) runBatch(ctx context.Context, tx *wtx, batch []*writeReq, errs []error) error {
	if err := tx.checkVersion(ctx); err != nil {
		return err
	}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if req.nm != nil {
			var err error
			req.msg, req.created, err = appendRow(ctx, tx, req.nm)
			if err != nil {
				var be *batchError
				if errors.As(err, &be) || parley.ErrorCode(dbErr(err)) == parley.EUNAVAILABLE {
					return err // the transaction may be gone, or hold half an append
				}
				errs[i] = dbErr(err)
			}
			continue
		}
		if err := tx.flush(ctx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			return err
		}
		if err := req.fn(ctx, tx); err != nil {
			if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO write`); rbErr != nil {
				return txLost(err, rbErr)
			}
			// The write may have filled the cache from rows now undone.
			// Its own appends were flushed: nothing dirty is lost.
			tx.c.reset()
			errs[i] = dbErr(err)
		}
		if _, err := tx.ExecContext(ctx, `RELEASE write`); err != nil {
			return err
		}
	}
	return tx.flush(ctx)
}

// txLost is the error of a batch whose transaction was lost while a write
// failed with err. Its code must not be err's own (a write's ENOTFOUND is
// no answer for the other writes of the batch): it is EUNAVAILABLE if err
// says the database cannot be used, else the rollback's failure.
func txLost(err, rbErr error) error {
	if parley.ErrorCode(dbErr(err)) == parley.EUNAVAILABLE {
		return err
	}
	return fmt.Errorf("sqlite: transaction lost after %v: %w", err, rbErr)
}

// dbErr maps database errors to Parley's: *parley.Error values and context
// errors pass through, no row and a foreign key to nothing give
// parley.ErrNotFound, a database that cannot be used gives
// parley.ErrUnavailable (wrapping the cause for logs), anything else is a
// bug and is returned wrapped, for logs only.
func dbErr(err error) error {
	var pe *parley.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return parley.ErrNotFound
	case errors.Is(err, sql.ErrConnDone):
		return fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		if se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			// A row refers to a user or conversation that does not exist.
			return parley.ErrNotFound
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOMEM:
			return fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
		}
	}
	if err.Error() == "sql: database is closed" { // database/sql does not export it
		return fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %w", err)
}

// Times are stored as UTC unix microseconds.

func ts(t time.Time) int64 { return t.UnixMicro() }

func tm(us int64) time.Time { return time.UnixMicro(us).UTC() }

func tmp(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := tm(us.Int64)
	return &t
}

// nullInt is v, or NULL when v is 0.
func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

// nullStr is v, or NULL when v is "".
func nullStr(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryer is *reader or *wtx: reads run on the read pool, or inside a
// write's transaction when they must see its changes.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// collect scans every row of a query with scan.
func collect[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, dbErr(err)
		}
		out = append(out, v)
	}
	return out, dbErr(rows.Err())
}
