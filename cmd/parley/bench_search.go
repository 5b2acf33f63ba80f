package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"parley"
	pbench "parley/bench"
	"parley/postgres"
	"parley/sqlite"
)

// benchSearch is 'parley bench search': it seeds a store directly (no
// server) and times searches in process.
func benchSearch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("bench search", getenv, stderr)
	db := f.String("db", "PARLEY_BENCH_DB", "", "SQLite file to seed and search; kept, and searched again without seeding when it holds a seeded store (empty: a temporary file)")
	pgURL := f.String("database-url", "PARLEY_BENCH_DATABASE_URL", "", "PostgreSQL to seed and search instead of SQLite (use a search_path of its own)")
	msgs := f.Int("messages", "PARLEY_BENCH_MESSAGES", 1_000_000, "messages seeded")
	convs := f.Int("conversations", "PARLEY_BENCH_CONVERSATIONS", 1000, "groups the messages are spread over")
	memberOf := f.Int("member-of", "PARLEY_BENCH_MEMBER_OF", 50, "groups the searching user is a member of")
	queries := f.Int("queries", "PARLEY_BENCH_QUERIES", 200, "searches timed of each kind")
	inFlight := f.Int("in-flight", "PARLEY_BENCH_IN_FLIGHT", 512, "appends waiting at once while seeding")
	waitIdle := f.Duration("wait-idle", "PARLEY_BENCH_WAIT_IDLE", 0, "before timing, wait up to this long for the machine to be quiet (0: don't wait)")
	asJSON := f.Bool("json", "PARLEY_BENCH_JSON", false, "print results as JSON")
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *msgs < 0 || *convs < 1 || *memberOf < 1 || *memberOf > *convs || *queries < 1 || *inFlight < 1 {
		return fmt.Errorf("bench search: --conversations, --member-of (at most --conversations), --queries and --in-flight must be at least 1")
	}
	var (
		store     parley.Store
		err       error
		where     string
		afterSeed func(context.Context) error
	)
	if *pgURL != "" {
		var pg *postgres.Store
		pg, err = postgres.Open(ctx, *pgURL)
		store, where = pg, "PostgreSQL"
		afterSeed = func(ctx context.Context) error {
			// Statistics for the planner now, not when autovacuum gets to it.
			_, err := pg.Pool().Exec(ctx, `ANALYZE messages, members, conversations`)
			return err
		}
	} else {
		path := *db
		if path == "" {
			dir, derr := os.MkdirTemp("", "parley-bench-search-")
			if derr != nil {
				return derr
			}
			defer os.RemoveAll(dir)
			path = filepath.Join(dir, "parley.db")
		}
		store, err = sqlite.Open(ctx, path)
		where = "SQLite " + path
	}
	if err != nil {
		return fmt.Errorf("bench search: %w", err)
	}
	defer store.Close()
	fmt.Fprintf(stderr, "bench search: %s\n", where)
	r, err := pbench.Search(ctx, store, pbench.SearchConfig{Messages: *msgs, Conversations: *convs, MemberOf: *memberOf,
		Queries: *queries, InFlight: *inFlight, Log: stderr, WaitIdle: *waitIdle, AfterSeed: afterSeed})
	if r != nil {
		r.Notes = append(r.Notes, "store: "+where, "machine: "+pbench.Machine(), "unpinned")
		if perr := printResults(stdout, []*pbench.Result{r}, *asJSON); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return fmt.Errorf("bench search: %w", err)
	}
	return nil
}
