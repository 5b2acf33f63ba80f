package http_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/app"
	"parley/servertest"
)

// TestConcurrentGuessesCounted: 40 concurrent wrong logins for one account
// check no more passwords than the limit (10); the rest are refused with
// 429 before any hash is computed.
func TestConcurrentGuessesCounted(t *testing.T) {
	srv := servertest.Start(t)
	user(t, srv, "carol")
	anon := &api{t: t, base: srv.URL}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": "carol", "password": "wrong-password"})
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	// On a loaded machine an attempt may find no free hash slot within the
	// wait and get 503; that is refused too, never an extra guess.
	if statuses[401] > 10 || statuses[401]+statuses[429]+statuses[503] != 40 {
		t.Fatalf("40 concurrent wrong logins: %v; want at most 10 checked (401), the rest 429 (or 503)", statuses)
	}
}

// TestLockoutSameForUnknownNames: the per-login limit applies to a name
// nobody has exactly as to a real account, so it tells nothing about which
// accounts exist.
func TestLockoutSameForUnknownNames(t *testing.T) {
	srv := servertest.Start(t)
	user(t, srv, "carol")
	anon := &api{t: t, base: srv.URL}
	for _, login := range []string{"carol", "nobody", "Nobody@Example.com"} {
		for i := range 10 {
			if r := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": login, "password": "wrong-password"}); r.status != 401 {
				t.Fatalf("%s, failure %d: %d %s", login, i+1, r.status, r.raw)
			}
		}
		r := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": login, "password": "wrong-password"})
		if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s after 10 failures: %d %s", login, r.status, r.raw)
		}
	}
	// The limit is per login as typed (lower case): the same name in
	// capitals is the same login.
	if r := anon.do("POST", "/api/v1/auth/login", map[string]any{"login": " NOBODY ", "password": "x"}); r.status != 429 {
		t.Fatalf("NOBODY after nobody's 10 failures: %d %s", r.status, r.raw)
	}
}

// TestSignupRateLimit: sign-ups are limited per client address.
func TestSignupRateLimit(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Service.SignupsPerHour = 3 }))
	anon := &api{t: t, base: srv.URL}
	for _, name := range []string{"user1", "user2", "user3"} {
		anon.must(201, "POST", "/api/v1/auth/signup", map[string]any{"username": name, "email": name + "@example.com", "password": "password-" + name})
	}
	r := anon.do("POST", "/api/v1/auth/signup", map[string]any{"username": "user4", "email": "user4@example.com", "password": "password-user4"})
	if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") != "3600" {
		t.Fatalf("4th sign-up in an hour: %d %s %v", r.status, r.raw, r.header)
	}
	// Invalid input is refused before the limit and does not count.
	if r := anon.do("POST", "/api/v1/auth/signup", map[string]any{"username": "x", "email": "x@example.com", "password": "password-x"}); r.code() != "invalid" {
		t.Fatalf("invalid sign-up: %d %s", r.status, r.raw)
	}
}

// TestLastSeenOnlyForContacts: a profile shows last_seen only to people
// presence is shared with, never to a stranger or in search results.
func TestLastSeenOnlyForContacts(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, mallory := user(t, srv, "alice"), user(t, srv, "bob"), user(t, srv, "mallory")
	alice.must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"})
	bobID := id(bob.must(200, "GET", "/api/v1/me", nil).obj("user"), "id")
	if err := srv.Node.Store.SetLastSeen(context.Background(), bobID, time.Now().UTC().Truncate(time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	if u := alice.must(200, "GET", "/api/v1/users/bob", nil).obj("user"); u["last_seen"] == nil {
		t.Fatalf("bob's contact sees no last_seen: %v", u)
	}
	if u := mallory.must(200, "GET", "/api/v1/users/bob", nil).obj("user"); u["last_seen"] != nil || u["username"] != "bob" {
		t.Fatalf("a stranger sees %v", u)
	}
	r := mallory.must(200, "GET", "/api/v1/users?prefix=bo", nil)
	if strings.Contains(string(r.raw), "last_seen") {
		t.Fatalf("search shows presence: %s", r.raw)
	}
}

// TestNamesRefuseInvisibleCharacters: display names and group names with
// control, format (bidi overrides, zero-width, BOM) or private-use
// characters are refused with the field named; names are stored in NFC.
func TestNamesRefuseInvisibleCharacters(t *testing.T) {
	srv := servertest.Start(t)
	alice := user(t, srv, "alice")
	g := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "Climbing"}).obj("conversation")
	for _, bad := range []string{"al\u200bice", "\u202eecila", "\ufeffalice", "ali\u2066ce", "al\u200dice", "alice\ue000", "al\u0007ice", "al\u00adice"} {
		if r := alice.do("PATCH", "/api/v1/me", map[string]any{"display_name": bad}); r.status != 400 || r.code() != "invalid" || r.field() != "display_name" {
			t.Errorf("display name %+q: %d %s", bad, r.status, r.raw)
		}
		if r := alice.do("POST", "/api/v1/groups", map[string]any{"name": bad}); r.status != 400 || r.code() != "invalid" || r.field() != "name" {
			t.Errorf("new group named %+q: %d %s", bad, r.status, r.raw)
		}
		if r := alice.do("PATCH", fmt.Sprintf("/api/v1/conversations/%d", id(g, "id")), map[string]any{"name": bad}); r.status != 400 || r.field() != "name" {
			t.Errorf("renaming to %+q: %d %s", bad, r.status, r.raw)
		}
	}
	// Decomposed é is stored composed; letters of any script are fine.
	if u := alice.must(200, "PATCH", "/api/v1/me", map[string]any{"display_name": "Ame\u0301lie"}).obj("user"); u["display_name"] != "Am\u00e9lie" {
		t.Fatalf("display name stored as %+q, want NFC", u["display_name"])
	}
	if u := alice.must(200, "PATCH", "/api/v1/me", map[string]any{"display_name": "\u0430lice"}).obj("user"); u["display_name"] != "\u0430lice" {
		t.Fatalf("Cyrillic display name: %v", u)
	}
	if c := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": " Cafe\u0301 "}).obj("conversation"); c["name"] != "Caf\u00e9" {
		t.Fatalf("group name stored as %+q", c["name"])
	}
}

// TestJoinFailuresLimited: wrong group codes are limited per user (20 per
// 10 minutes) and per address (100), then 429 with Retry-After, even for
// the right code; concurrent guesses get no further.
func TestJoinFailuresLimited(t *testing.T) {
	srv := servertest.Start(t)
	alice, mallory := user(t, srv, "alice"), user(t, srv, "mallory")
	alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "Secret", "code": "right-code"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 40 {
		wg.Go(func() {
			r := mallory.do("POST", "/api/v1/groups/join", map[string]any{"code": fmt.Sprintf("guess-%d", i)})
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[404] != 20 || statuses[429] != 20 {
		t.Fatalf("40 concurrent wrong codes: %v; want 20 looked up (404), 20 refused (429)", statuses)
	}
	r := mallory.do("POST", "/api/v1/groups/join", map[string]any{"code": "right-code"})
	if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") != "600" {
		t.Fatalf("right code after 20 failures: %d %s %v", r.status, r.raw, r.header)
	}
	// A right code does not count: alice's member joins freely.
	bob := user(t, srv, "bob")
	for range 25 {
		if r := bob.do("POST", "/api/v1/groups/join", map[string]any{"code": "RIGHT-CODE"}); r.status != 201 && r.status != 200 {
			t.Fatalf("join with the right code: %d %s", r.status, r.raw)
		}
	}
	// Per address: 100 failures from one address, whoever makes them.
	for i := range 4 {
		u := user(t, srv, fmt.Sprintf("sock%d", i))
		for j := range 20 {
			u.must(404, "POST", "/api/v1/groups/join", map[string]any{"code": fmt.Sprintf("nope-%d", j)})
		}
	}
	if r := user(t, srv, "carol").do("POST", "/api/v1/groups/join", map[string]any{"code": "nope-x"}); r.status != 429 {
		t.Fatalf("a new user after 100 failures from the address: %d %s", r.status, r.raw)
	}
}

// TestJoinCodes: generated codes carry 60 bits over the alphabet matched
// without regard to case; custom codes are at least 6 characters; a
// shorter code set before that limit still works.
func TestJoinCodes(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := user(t, srv, "alice"), user(t, srv, "bob")
	code := alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).obj("conversation")["code"].(string)
	if !regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`).MatchString(code) {
		t.Fatalf("generated code %q: want 12 symbols of 32 (60 bits) that do not depend on case", code)
	}
	bob.must(201, "POST", "/api/v1/groups/join", map[string]any{"code": strings.ToUpper(code)})
	if r := alice.do("POST", "/api/v1/groups", map[string]any{"name": "G", "code": "short"}); r.status != 400 || r.field() != "code" {
		t.Fatalf("5-character code: %d %s", r.status, r.raw)
	}
	alice.must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "sixsix"})
	// A 4-character code from before the limit.
	aliceID := id(alice.must(200, "GET", "/api/v1/me", nil).obj("user"), "id")
	if _, _, err := srv.Node.Store.CreateGroup(context.Background(), "Old", "abcd", aliceID, time.Now().UTC().Truncate(time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	bob.must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "ABCD"})
}
