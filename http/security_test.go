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
	servertest.SignUp(t, srv.URL, "carol")
	anon := &servertest.API{T: t, Base: srv.URL}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": "carol", "password": "wrong-password"})
			mu.Lock()
			statuses[r.Status]++
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
	servertest.SignUp(t, srv.URL, "carol")
	anon := &servertest.API{T: t, Base: srv.URL}
	for _, login := range []string{"carol", "nobody", "Nobody@Example.com"} {
		for i := range 10 {
			if r := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": login, "password": "wrong-password"}); r.Status != 401 {
				t.Fatalf("%s, failure %d: %d %s", login, i+1, r.Status, r.Raw)
			}
		}
		r := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": login, "password": "wrong-password"})
		if r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s after 10 failures: %d %s", login, r.Status, r.Raw)
		}
	}
	// The limit is per login as typed (lower case): the same name in
	// capitals is the same login.
	if r := anon.Do("POST", "/api/v1/auth/login", map[string]any{"login": " NOBODY ", "password": "x"}); r.Status != 429 {
		t.Fatalf("NOBODY after nobody's 10 failures: %d %s", r.Status, r.Raw)
	}
}

// TestSignupRateLimit: sign-ups are limited per client address.
func TestSignupRateLimit(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Service.SignupsPerHour = 3 }))
	anon := &servertest.API{T: t, Base: srv.URL}
	for _, name := range []string{"user1", "user2", "user3"} {
		anon.Must(201, "POST", "/api/v1/auth/signup", map[string]any{"username": name, "email": name + "@example.com", "password": "password-" + name})
	}
	r := anon.Do("POST", "/api/v1/auth/signup", map[string]any{"username": "user4", "email": "user4@example.com", "password": "password-user4"})
	if r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") != "3600" {
		t.Fatalf("4th sign-up in an hour: %d %s %v", r.Status, r.Raw, r.Header)
	}
	// Invalid input is refused before the limit and does not count.
	if r := anon.Do("POST", "/api/v1/auth/signup", map[string]any{"username": "x", "email": "x@example.com", "password": "password-x"}); r.Code() != "invalid" {
		t.Fatalf("invalid sign-up: %d %s", r.Status, r.Raw)
	}
}

// TestLastSeenOnlyForContacts: a profile shows last_seen only to people
// presence is shared with, never to a stranger or in search results.
func TestLastSeenOnlyForContacts(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, mallory := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "mallory")
	alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"})
	bobID := id(bob.Must(200, "GET", "/api/v1/me", nil).Obj("user"), "id")
	if err := srv.Node.Store.SetLastSeen(context.Background(), bobID, time.Now().UTC().Truncate(time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	if u := alice.Must(200, "GET", "/api/v1/users/bob", nil).Obj("user"); u["last_seen"] == nil {
		t.Fatalf("bob's contact sees no last_seen: %v", u)
	}
	if u := mallory.Must(200, "GET", "/api/v1/users/bob", nil).Obj("user"); u["last_seen"] != nil || u["username"] != "bob" {
		t.Fatalf("a stranger sees %v", u)
	}
	r := mallory.Must(200, "GET", "/api/v1/users?prefix=bo", nil)
	if strings.Contains(string(r.Raw), "last_seen") {
		t.Fatalf("search shows presence: %s", r.Raw)
	}
}

// TestNamesRefuseInvisibleCharacters: display names and group names with
// control, format (bidi overrides, zero-width, BOM) or private-use
// characters are refused with the field named; names are stored in NFC.
func TestNamesRefuseInvisibleCharacters(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Climbing"}).Obj("conversation")
	for _, bad := range []string{"al\u200bice", "\u202eecila", "\ufeffalice", "ali\u2066ce", "al\u200dice", "alice\ue000", "al\u0007ice", "al\u00adice"} {
		if r := alice.Do("PATCH", "/api/v1/me", map[string]any{"display_name": bad}); r.Status != 400 || r.Code() != "invalid" || r.Field() != "display_name" {
			t.Errorf("display name %+q: %d %s", bad, r.Status, r.Raw)
		}
		if r := alice.Do("POST", "/api/v1/groups", map[string]any{"name": bad}); r.Status != 400 || r.Code() != "invalid" || r.Field() != "name" {
			t.Errorf("new group named %+q: %d %s", bad, r.Status, r.Raw)
		}
		if r := alice.Do("PATCH", fmt.Sprintf("/api/v1/conversations/%d", id(g, "id")), map[string]any{"name": bad}); r.Status != 400 || r.Field() != "name" {
			t.Errorf("renaming to %+q: %d %s", bad, r.Status, r.Raw)
		}
	}
	// Decomposed é is stored composed; letters of any script are fine.
	if u := alice.Must(200, "PATCH", "/api/v1/me", map[string]any{"display_name": "Ame\u0301lie"}).Obj("user"); u["display_name"] != "Am\u00e9lie" {
		t.Fatalf("display name stored as %+q, want NFC", u["display_name"])
	}
	if u := alice.Must(200, "PATCH", "/api/v1/me", map[string]any{"display_name": "\u0430lice"}).Obj("user"); u["display_name"] != "\u0430lice" {
		t.Fatalf("Cyrillic display name: %v", u)
	}
	if c := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": " Cafe\u0301 "}).Obj("conversation"); c["name"] != "Caf\u00e9" {
		t.Fatalf("group name stored as %+q", c["name"])
	}
}

// TestJoinFailuresLimited: wrong group codes are limited per user (20 per
// 10 minutes) and per address (100), then 429 with Retry-After, even for
// the right code; concurrent guesses get no further.
func TestJoinFailuresLimited(t *testing.T) {
	srv := servertest.Start(t)
	alice, mallory := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "mallory")
	alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Secret", "code": "right-code"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 40 {
		wg.Go(func() {
			r := mallory.Do("POST", "/api/v1/groups/join", map[string]any{"code": fmt.Sprintf("guess-%d", i)})
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[404] != 20 || statuses[429] != 20 {
		t.Fatalf("40 concurrent wrong codes: %v; want 20 looked up (404), 20 refused (429)", statuses)
	}
	r := mallory.Do("POST", "/api/v1/groups/join", map[string]any{"code": "right-code"})
	if r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") != "600" {
		t.Fatalf("right code after 20 failures: %d %s %v", r.Status, r.Raw, r.Header)
	}
	// A right code does not count: alice's member joins freely.
	bob := servertest.SignUp(t, srv.URL, "bob")
	for range 25 {
		if r := bob.Do("POST", "/api/v1/groups/join", map[string]any{"code": "RIGHT-CODE"}); r.Status != 201 && r.Status != 200 {
			t.Fatalf("join with the right code: %d %s", r.Status, r.Raw)
		}
	}
	// Per address: 100 failures from one address, whoever makes them.
	for i := range 4 {
		u := servertest.SignUp(t, srv.URL, fmt.Sprintf("sock%d", i))
		for j := range 20 {
			u.Must(404, "POST", "/api/v1/groups/join", map[string]any{"code": fmt.Sprintf("nope-%d", j)})
		}
	}
	if r := servertest.SignUp(t, srv.URL, "carol").Do("POST", "/api/v1/groups/join", map[string]any{"code": "nope-x"}); r.Status != 429 {
		t.Fatalf("a new user after 100 failures from the address: %d %s", r.Status, r.Raw)
	}
}

// TestJoinCodes: generated codes carry 60 bits over the alphabet matched
// without regard to case; custom codes are at least 6 characters; a
// shorter code set before that limit still works.
func TestJoinCodes(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	code := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")["code"].(string)
	if !regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`).MatchString(code) {
		t.Fatalf("generated code %q: want 12 symbols of 32 (60 bits) that do not depend on case", code)
	}
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": strings.ToUpper(code)})
	if r := alice.Do("POST", "/api/v1/groups", map[string]any{"name": "G", "code": "short"}); r.Status != 400 || r.Field() != "code" {
		t.Fatalf("5-character code: %d %s", r.Status, r.Raw)
	}
	alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "sixsix"})
	// A 4-character code from before the limit.
	aliceID := id(alice.Must(200, "GET", "/api/v1/me", nil).Obj("user"), "id")
	if _, _, err := srv.Node.Store.CreateGroup(context.Background(), "Old", "abcd", aliceID, time.Now().UTC().Truncate(time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "ABCD"})
}
