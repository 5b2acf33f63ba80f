package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"parley"
)

// newSession stores a session of user u whose token is token, created and
// last used at created, expiring ttl later.
func newSession(t *testing.T, s parley.Store, u parley.User, token string, created time.Time, ttl time.Duration) parley.Session {
	t.Helper()
	h := sha256.Sum256([]byte(token))
	sess := parley.Session{
		UserID:    u.ID,
		TokenHash: h[:],
		UserAgent: "Mozilla/5.0 (" + token + ")",
		IP:        "192.0.2.7",
		CreatedAt: created,
		LastUsed:  created,
		ExpiresAt: created.Add(ttl),
	}
	ok(t, s.CreateSession(context.Background(), &sess), "CreateSession")
	if sess.ID == 0 {
		t.Fatal("CreateSession did not set ID")
	}
	return sess
}

func hashOf(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// checkSession compares a session read back with the one stored.
func checkSession(t *testing.T, what string, got, want parley.Session) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || !bytes.Equal(got.TokenHash, want.TokenHash) {
		t.Fatalf("%s: id/user/hash = %d/%d/%x, want %d/%d/%x", what, got.ID, got.UserID, got.TokenHash, want.ID, want.UserID, want.TokenHash)
	}
	want.CreatedAt = norm(want.CreatedAt)
	want.LastUsed = norm(want.LastUsed)
	want.ExpiresAt = norm(want.ExpiresAt)
	same(t, what, got, want)
}

func testSessionLookup(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	one := newSession(t, s, alice, "one", at(0), 24*time.Hour)
	two := newSession(t, s, alice, "two", at(0), 24*time.Hour)
	if one.ID == two.ID {
		t.Fatal("two sessions got the same id")
	}

	got, err := s.SessionByTokenHash(ctx, hashOf("one"), at(60))
	ok(t, err, "SessionByTokenHash")
	checkSession(t, "session one", got, one)
	got, err = s.SessionByTokenHash(ctx, hashOf("two"), at(60))
	ok(t, err, "SessionByTokenHash")
	checkSession(t, "session two", got, two)

	_, err = s.SessionByTokenHash(ctx, hashOf("one"), at(25*60))
	wantCode(t, err, parley.ENOTFOUND, "SessionByTokenHash after expiry")
	_, err = s.SessionByTokenHash(ctx, hashOf("three"), at(60))
	wantCode(t, err, parley.ENOTFOUND, "SessionByTokenHash(unknown)")
}

func testSessionTouch(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	sess := newSession(t, s, alice, "one", at(0), 24*time.Hour)

	ok(t, s.TouchSession(ctx, sess.ID, at(120), at(48*60)), "TouchSession")
	sess.LastUsed, sess.ExpiresAt = at(120), at(48*60)
	got, err := s.SessionByTokenHash(ctx, hashOf("one"), at(30*60))
	ok(t, err, "SessionByTokenHash after touch, past the old expiry")
	checkSession(t, "touched session", got, sess)
}

func testSessionList(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	old := newSession(t, s, alice, "old", at(0), 24*time.Hour)
	recent := newSession(t, s, alice, "recent", at(10), 24*time.Hour)
	newSession(t, s, alice, "expired", at(20), time.Hour)
	newSession(t, s, bob, "bob's", at(30), 24*time.Hour)
	ok(t, s.TouchSession(ctx, old.ID, at(200), at(24*60)), "TouchSession")
	old.LastUsed, old.ExpiresAt = at(200), at(24*60)

	list, err := s.Sessions(ctx, alice.ID, at(300))
	ok(t, err, "Sessions")
	if len(list) != 2 {
		t.Fatalf("Sessions = %d sessions, want 2 (unexpired ones of alice)", len(list))
	}
	checkSession(t, "newest use first", list[0], old)
	checkSession(t, "then", list[1], recent)

	list, err = s.Sessions(ctx, MustUser(t, s, "carol").ID, at(0))
	ok(t, err, "Sessions(carol)")
	if len(list) != 0 {
		t.Fatalf("Sessions(carol) = %v, want none", list)
	}
}

func testSessionDelete(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	sess := newSession(t, s, alice, "one", at(0), 24*time.Hour)

	wantCode(t, s.DeleteSession(ctx, bob.ID, sess.ID), parley.ENOTFOUND, "DeleteSession by another user")
	_, err := s.SessionByTokenHash(ctx, hashOf("one"), at(1))
	ok(t, err, "session after another user's delete")

	ok(t, s.DeleteSession(ctx, alice.ID, sess.ID), "DeleteSession")
	_, err = s.SessionByTokenHash(ctx, hashOf("one"), at(1))
	wantCode(t, err, parley.ENOTFOUND, "SessionByTokenHash after delete")
	wantCode(t, s.DeleteSession(ctx, alice.ID, sess.ID), parley.ENOTFOUND, "DeleteSession again")
}

func testSessionDeleteOthers(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	keep := newSession(t, s, alice, "keep", at(0), 24*time.Hour)
	a := newSession(t, s, alice, "a", at(1), 24*time.Hour)
	b := newSession(t, s, alice, "b", at(2), time.Minute) // expired by now
	bobs := newSession(t, s, bob, "bob's", at(3), 24*time.Hour)

	deleted, err := s.DeleteOtherSessions(ctx, alice.ID, keep.ID)
	ok(t, err, "DeleteOtherSessions")
	slices.Sort(deleted)
	if want := []int64{a.ID, b.ID}; !slices.Equal(deleted, want) {
		t.Fatalf("DeleteOtherSessions = %v, want %v", deleted, want)
	}
	list, err := s.Sessions(ctx, alice.ID, at(10))
	ok(t, err, "Sessions")
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Fatalf("alice's sessions after DeleteOtherSessions = %+v, want only %d", list, keep.ID)
	}
	list, err = s.Sessions(ctx, bob.ID, at(10))
	ok(t, err, "Sessions(bob)")
	if len(list) != 1 || list[0].ID != bobs.ID {
		t.Fatalf("bob's sessions = %+v, want his one session", list)
	}

	deleted, err = s.DeleteOtherSessions(ctx, alice.ID, keep.ID)
	ok(t, err, "DeleteOtherSessions again")
	if len(deleted) != 0 {
		t.Fatalf("DeleteOtherSessions again = %v, want none", deleted)
	}
}
