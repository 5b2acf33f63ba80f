package postgres_test

import (
	"context"
	"testing"
	"time"

	"parley"
	"parley/pgtest"
	"parley/postgres"
	"parley/storetest"
	"parley/testwait"
)

// TestSearchIndexBuiltConcurrently: a database whose search index is
// missing (the migration leaves it to the store on a large table) or
// invalid (an interrupted build) gets it built when the store opens, and
// searches find the same before and after.
func TestSearchIndexBuiltConcurrently(t *testing.T) {
	pgtest.Need(t)
	ctx := context.Background()
	u := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": newSchema(t)})
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	alice := storetest.MustUser(t, s, "alice")
	g := storetest.MustGroup(t, s, "G", alice)
	for _, text := range []string{"the first needle", "hay", "a second NEEDLE"} {
		storetest.MustSend(t, s, g.ID, alice, text)
	}
	search := func(s parley.Store) int {
		page, err := s.SearchMessages(ctx, parley.SearchQuery{UserID: alice.ID, Terms: []string{"needle"}})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Messages)
	}
	if _, err := s.Pool().Exec(ctx, `DROP INDEX messages_search`); err != nil {
		t.Fatal(err)
	}
	if n := search(s); n != 2 {
		t.Fatalf("without the index found %d, want 2", n)
	}
	s.Close()

	s, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testwait.For(t, 60*time.Second, func() bool {
		var valid bool
		err := s.Pool().QueryRow(ctx, `SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('messages_search')), false)`).Scan(&valid)
		if err != nil {
			t.Fatal(err)
		}
		return valid
	}, "the store did not build the search index")
	if n := search(s); n != 2 {
		t.Fatalf("with the index found %d, want 2", n)
	}
}

// TestSearchPlans: the walk, the walk in small ranges handing over to the
// index, the windows per conversation (large, and small ones handing over
// to the index) and the index alone find the same pages.
func TestSearchPlans(t *testing.T) {
	s := newStore(t)
	storetest.SearchPlans(t, s, map[string]func(){
		"index":         func() { postgres.SetSearchWalk(t, 4096, 0, 0) },
		"walk":          func() { postgres.SetSearchWalk(t, 4096, 1<<40, 1<<40) },
		"short walk":    func() { postgres.SetSearchWalk(t, 3, 40, 1<<40) },
		"windows":       func() { postgres.SetSearchWalk(t, 4096, 1<<40, 0) },
		"small windows": func() { postgres.SetSearchWalk(t, 12, 1<<40, 0) },
	})
}
