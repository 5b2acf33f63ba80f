package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"parley"
)

func accountTests() []struct {
	name string
	fn   func(t *testing.T, s parley.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s parley.Store)
	}{
		{"Account/SetPassword", testSetPassword},
	}
}

func testSetPassword(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	one := newSession(t, s, alice, "one", at(0), 24*time.Hour)
	keep := newSession(t, s, alice, "keep", at(1), 24*time.Hour)
	three := newSession(t, s, alice, "three", at(2), 24*time.Hour)
	bobs := newSession(t, s, bob, "bob's", at(3), 24*time.Hour)

	deleted, err := s.SetPassword(ctx, alice.ID, "$new$hash", keep.ID)
	ok(t, err, "SetPassword")
	slices.Sort(deleted)
	if want := []int64{one.ID, three.ID}; !slices.Equal(deleted, want) {
		t.Fatalf("SetPassword deleted %v, want %v", deleted, want)
	}
	_, hash, err := s.UserByLogin(ctx, "alice")
	ok(t, err, "UserByLogin")
	if hash != "$new$hash" {
		t.Fatalf("hash after SetPassword = %q", hash)
	}
	list, err := s.Sessions(ctx, alice.ID, at(10))
	ok(t, err, "Sessions")
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Fatalf("alice's sessions after SetPassword = %+v, want only %d", list, keep.ID)
	}
	if _, bobHash, err := s.UserByLogin(ctx, "bob"); err != nil || bobHash == "$new$hash" {
		t.Fatalf("bob's hash = %q, %v: changed with alice's", bobHash, err)
	}

	// Keeping none ends every session.
	deleted, err = s.SetPassword(ctx, alice.ID, "$newer$hash", 0)
	ok(t, err, "SetPassword keeping none")
	if !slices.Equal(deleted, []int64{keep.ID}) {
		t.Fatalf("SetPassword keeping none deleted %v, want [%d]", deleted, keep.ID)
	}
	list, err = s.Sessions(ctx, bob.ID, at(10))
	ok(t, err, "Sessions(bob)")
	if len(list) != 1 || list[0].ID != bobs.ID {
		t.Fatalf("bob's sessions = %+v, want his one", list)
	}

	_, err = s.SetPassword(ctx, 1<<40, "$x$", 0)
	wantCode(t, err, parley.ENOTFOUND, "SetPassword of no user")
}
