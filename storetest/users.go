package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"parley"
)

func testCreateUser(t *testing.T, s parley.Store) {
	ctx := context.Background()
	before := time.Now().Truncate(time.Microsecond)
	u := parley.User{Username: "alice", Email: "alice@example.com", DisplayName: "Alice A.", AcceptingMessages: true}
	ok(t, s.CreateUser(ctx, &u, "hash-1"), "CreateUser")
	after := time.Now()
	if u.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	if u.CreatedAt.Before(before) || u.CreatedAt.After(after) || u.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want UTC between %v and %v", u.CreatedAt, before, after)
	}
	if u.CreatedAt != u.CreatedAt.Truncate(time.Microsecond) {
		t.Fatalf("CreatedAt = %v, not truncated to microseconds", u.CreatedAt)
	}

	got, err := s.User(ctx, u.ID)
	ok(t, err, "User")
	same(t, "User", got, u)
	got, err = s.UserByUsername(ctx, "alice")
	ok(t, err, "UserByUsername")
	same(t, "UserByUsername", got, u)

	// A second user gets another id; a user who refuses messages keeps that.
	b := parley.User{Username: "bob", Email: "bob@example.com"}
	ok(t, s.CreateUser(ctx, &b, "hash-2"), "CreateUser(bob)")
	if b.ID == u.ID {
		t.Fatal("two users got the same id")
	}
	got, err = s.User(ctx, b.ID)
	ok(t, err, "User(bob)")
	same(t, "User(bob)", got, b)

	_, err = s.User(ctx, u.ID+b.ID+1000)
	wantCode(t, err, parley.ENOTFOUND, "User(unknown)")
	_, err = s.UserByUsername(ctx, "nobody")
	wantCode(t, err, parley.ENOTFOUND, "UserByUsername(unknown)")
}

func testUserUnique(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")

	for _, name := range []string{"alice", "ALICE", "Alice"} {
		u := parley.User{Username: name, Email: "other@example.com"}
		wantCode(t, s.CreateUser(ctx, &u, "h"), parley.EUSERNAMETAKEN, "CreateUser("+name+")")
	}
	for _, email := range []string{"alice@example.com", "ALICE@Example.COM"} {
		u := parley.User{Username: "alice2", Email: email}
		wantCode(t, s.CreateUser(ctx, &u, "h"), parley.EEMAILTAKEN, "CreateUser(email "+email+")")
	}

	// The failures stored nothing: the free username and email still are.
	u := parley.User{Username: "alice2", Email: "other@example.com"}
	ok(t, s.CreateUser(ctx, &u, "h"), "CreateUser after failures")
	got, err := s.UserByUsername(ctx, "alice")
	ok(t, err, "UserByUsername")
	same(t, "first user", got, alice)
}

func testUserNoEmail(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a := parley.User{Username: "anon1"}
	b := parley.User{Username: "anon2"}
	ok(t, s.CreateUser(ctx, &a, "h1"), "CreateUser(anon1)")
	ok(t, s.CreateUser(ctx, &b, "h2"), "CreateUser(anon2) also without email")
	got, err := s.User(ctx, b.ID)
	ok(t, err, "User")
	same(t, "User without email", got, b)
	_, _, err = s.UserByLogin(ctx, "")
	wantCode(t, err, parley.ENOTFOUND, "UserByLogin(\"\")")
}

func testUserByLogin(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	MustUser(t, s, "bob")

	for _, login := range []string{"alice", "alice@example.com"} {
		u, hash, err := s.UserByLogin(ctx, login)
		ok(t, err, "UserByLogin("+login+")")
		same(t, "UserByLogin("+login+")", u, alice)
		if hash != "hash-alice" {
			t.Fatalf("UserByLogin(%s) hash = %q, want %q", login, hash, "hash-alice")
		}
	}
	for _, login := range []string{"carol", "carol@example.com", "alic"} {
		_, _, err := s.UserByLogin(ctx, login)
		wantCode(t, err, parley.ENOTFOUND, "UserByLogin("+login+")")
	}
}

func testSearchUsers(t *testing.T, s parley.Store) {
	ctx := context.Background()
	for _, name := range []string{"box", "bobby", "alice", "bob", "bobcat", "bo_x", "boax"} {
		MustUser(t, s, name)
	}
	cases := []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"bob", 10, []string{"bob", "bobby", "bobcat"}},
		{"bob", 2, []string{"bob", "bobby"}},
		{"a", 10, []string{"alice"}},
		{"alice", 10, []string{"alice"}},
		{"zed", 10, []string{}},
		// LIKE wildcards in the prefix are plain characters.
		{"bo_", 10, []string{"bo_x"}},
		{"bo%", 10, []string{}},
	}
	for _, c := range cases {
		us, err := s.SearchUsers(ctx, c.prefix, c.limit)
		ok(t, err, "SearchUsers")
		if got := ids(us); !slices.Equal(got, c.want) {
			t.Fatalf("SearchUsers(%q, %d) = %q, want %q", c.prefix, c.limit, got, c.want)
		}
	}
	us, err := s.SearchUsers(ctx, "bob", 1)
	ok(t, err, "SearchUsers")
	bob, err := s.UserByUsername(ctx, "bob")
	ok(t, err, "UserByUsername")
	if len(us) != 1 || us[0].ID != bob.ID || us[0].DisplayName != "Bob" {
		t.Fatalf("SearchUsers(bob, 1) = %+v, want bob with his fields", us)
	}
}

func testUpdateUser(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")

	name := "Alice Liddell"
	got, err := s.UpdateUser(ctx, alice.ID, parley.UserUpdate{DisplayName: &name})
	ok(t, err, "UpdateUser(name)")
	alice.DisplayName = name
	same(t, "after name change", got, alice)

	no := false
	got, err = s.UpdateUser(ctx, alice.ID, parley.UserUpdate{AcceptingMessages: &no})
	ok(t, err, "UpdateUser(accepting)")
	alice.AcceptingMessages = false
	same(t, "after accepting change", got, alice)

	got, err = s.UpdateUser(ctx, alice.ID, parley.UserUpdate{})
	ok(t, err, "UpdateUser(nothing)")
	same(t, "after empty update", got, alice)

	got, err = s.User(ctx, alice.ID)
	ok(t, err, "User")
	same(t, "stored user", got, alice)

	_, err = s.UpdateUser(ctx, alice.ID+1000, parley.UserUpdate{DisplayName: &name})
	wantCode(t, err, parley.ENOTFOUND, "UpdateUser(unknown)")
}

func testLastSeen(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")

	ok(t, s.SetLastSeen(ctx, alice.ID, at(5)), "SetLastSeen")
	got, err := s.User(ctx, alice.ID)
	ok(t, err, "User")
	if got.LastSeen == nil {
		t.Fatal("LastSeen not set")
	}
	sameTime(t, "LastSeen", *got.LastSeen, at(5))

	ok(t, s.SetLastSeen(ctx, alice.ID, at(9)), "SetLastSeen again")
	got, err = s.User(ctx, alice.ID)
	ok(t, err, "User")
	sameTime(t, "LastSeen", *got.LastSeen, at(9))

	got, err = s.User(ctx, bob.ID)
	ok(t, err, "User(bob)")
	if got.LastSeen != nil {
		t.Fatalf("bob's LastSeen = %v, want nil", got.LastSeen)
	}

	// Many at once: the never-seen and the unknown are left out.
	carol := MustUser(t, s, "carol")
	ok(t, s.SetLastSeen(ctx, carol.ID, at(7)), "SetLastSeen(carol)")
	seen, err := s.LastSeen(ctx, []int64{alice.ID, bob.ID, carol.ID, 987654})
	ok(t, err, "LastSeen")
	if len(seen) != 2 {
		t.Fatalf("LastSeen = %v, want alice and carol", seen)
	}
	sameTime(t, "LastSeen(alice)", seen[alice.ID], at(9))
	sameTime(t, "LastSeen(carol)", seen[carol.ID], at(7))
	if seen, err := s.LastSeen(ctx, nil); err != nil || len(seen) != 0 {
		t.Fatalf("LastSeen(nil) = %v, %v", seen, err)
	}
	wantCode(t, s.SetLastSeen(ctx, 987654, at(1)), parley.ENOTFOUND, "SetLastSeen of no user")
}

func testLoginFailures(t *testing.T, s parley.Store) {
	ctx := context.Background()
	count := func(key string, since time.Time) int {
		t.Helper()
		n, err := s.LoginFailures(ctx, key, since)
		ok(t, err, "LoginFailures")
		return n
	}
	ok(t, s.AddLoginFailure(ctx, []string{"ip:192.0.2.1", "user:alice"}, at(0)), "AddLoginFailure")
	ok(t, s.AddLoginFailure(ctx, []string{"user:alice"}, at(1)), "AddLoginFailure")
	ok(t, s.AddLoginFailure(ctx, []string{"user:alice"}, at(2)), "AddLoginFailure")
	ok(t, s.AddLoginFailure(ctx, nil, at(2)), "AddLoginFailure(no keys)")

	for _, c := range []struct {
		key   string
		since time.Time
		want  int
	}{
		{"user:alice", at(-1), 3},
		{"user:alice", at(0), 3},
		{"user:alice", at(1), 2},
		{"user:alice", at(2), 1},
		{"user:alice", at(3), 0},
		{"ip:192.0.2.1", at(0), 1},
		{"user:bob", at(0), 0},
	} {
		if got := count(c.key, c.since); got != c.want {
			t.Fatalf("LoginFailures(%s, %v) = %d, want %d", c.key, c.since, got, c.want)
		}
	}

	ok(t, s.ClearLoginFailures(ctx, "user:alice"), "ClearLoginFailures")
	if got := count("user:alice", at(-1)); got != 0 {
		t.Fatalf("after clear: %d failures, want 0", got)
	}
	if got := count("ip:192.0.2.1", at(-1)); got != 1 {
		t.Fatalf("other key after clear: %d failures, want 1", got)
	}
	ok(t, s.ClearLoginFailures(ctx, "user:nobody"), "ClearLoginFailures(unknown)")
}
