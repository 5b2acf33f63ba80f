package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Statements are prepared once and reused: parsing SQL is most of the cost
// of a small query on SQLite.

// wtx is the writer's transaction. A query whose statement the writer has
// prepared runs as that statement; any other query runs unprepared and is
// noted, and the writer prepares it after the batch, when the write
// connection is free (preparing on the *sql.DB while the transaction holds
// its only connection would wait forever). Only the writer goroutine uses
// a wtx and its maps.
type wtx struct {
	tx       *sql.Tx
	prepared map[string]*sql.Stmt
	missed   map[string]struct{}
	c        *wcache
	// bound holds the prepared statements made this transaction's, each
	// once: a batch runs the same few statements for every message, and
	// binding one to the transaction (Tx.StmtContext) allocates.
	bound map[string]*sql.Stmt
}

func (t *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.bound[query]; ok {
		return st
	}
	if st, ok := t.prepared[query]; ok {
		st = t.tx.StmtContext(ctx, st)
		if t.bound == nil {
			t.bound = make(map[string]*sql.Stmt, 8)
		}
		t.bound[query] = st
		return st
	}
	t.missed[query] = struct{}{}
	return nil
}

func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// prepareMissed prepares the queries the last batch ran unprepared. It runs
// on the writer goroutine between batches. A query that fails to prepare
// simply stays unprepared.
func (s *Store) prepareMissed() {
	for q := range s.missed {
		if st, err := s.w.PrepareContext(context.Background(), q); err == nil {
			s.prepared[q] = st
		}
	}
	clear(s.missed)
}

// reader runs queries on the read pool as statements prepared on demand
// (database/sql prepares a statement again on each connection that needs
// it). It is safe for concurrent use.
type reader struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (r *reader) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	r.mu.Lock()
	st, ok := r.m[query]
	r.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.m[query]; ok { // prepared meanwhile by another reader
		st.Close()
		return prev, nil
	}
	r.m[query] = st
	return st, nil
}

func (r *reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (r *reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := r.stmt(ctx, query)
	if err != nil {
		// Let database/sql report the error through the *sql.Row.
		return r.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
