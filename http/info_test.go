package http_test

import (
	"fmt"
	"testing"
	"time"

	"parley/app"
	"parley/pgtest"
	"parley/servertest"
)

// Message info: only the sender of a text message sees who has it and who
// read it, with times once the marks move; groups above the large-group
// size (3 here) are not listed.
func TestMessageInfo(t *testing.T) {
	large := servertest.WithConfig(func(c *app.Config) { c.Service.LargeGroup = 3 })
	t.Run("SQLite", func(t *testing.T) { testMessageInfo(t, servertest.Start(t, large)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		db := pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_info_")})
		testMessageInfo(t, servertest.Start(t, large, servertest.WithConfig(func(c *app.Config) { c.DatabaseURL = db })))
	})
}

func testMessageInfo(t *testing.T, srv *servertest.Server) {
	alice, bob, carol, dave, erin := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"),
		servertest.SignUp(t, srv.URL, "carol"), servertest.SignUp(t, srv.URL, "dave"), servertest.SignUp(t, srv.URL, "erin")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Trip", "code": "trip-code"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "trip-code"})
	carol.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "trip-code"})
	gpath := fmt.Sprintf("/api/v1/conversations/%d", id(g, "id"))
	m := alice.Must(201, "POST", gpath+"/messages", map[string]any{"client_msg_id": "a1", "text": "Train at 8"}).Obj("message")
	sent, err := time.Parse(time.RFC3339Nano, m["created_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	info := fmt.Sprintf("%s/messages/%d/info", gpath, id(m, "seq"))
	members := func(who *servertest.API) map[string]map[string]any {
		t.Helper()
		r := who.Must(200, "GET", info, nil)
		if r.Body["listed"] != true || r.Body["large_group"] != float64(3) || id(r.Body, "seq") != id(m, "seq") {
			t.Fatalf("info: %s", r.Raw)
		}
		out := map[string]map[string]any{}
		for _, e := range r.Body["members"].([]any) {
			e := e.(map[string]any)
			out[e["username"].(string)] = e
		}
		return out
	}
	state := func(e map[string]any) string {
		return fmt.Sprintf("delivered %v %v, read %v %v", e["delivered"], e["delivered_at"] != nil, e["read"], e["read_at"] != nil)
	}

	got := members(alice)
	if len(got) != 2 || state(got["bob"]) != "delivered false false, read false false" || state(got["carol"]) != state(got["bob"]) {
		t.Fatalf("info before any receipt: %v", got)
	}
	bob.Must(200, "POST", gpath+"/read", map[string]any{"seq": id(m, "seq")})
	got = members(alice)
	if state(got["bob"]) != "delivered true true, read true true" || state(got["carol"]) != "delivered false false, read false false" {
		t.Fatalf("info after bob read: %v", got)
	}
	for _, k := range []string{"delivered_at", "read_at"} {
		at, err := time.Parse(time.RFC3339Nano, got["bob"][k].(string))
		if err != nil || at.Before(sent) || at.After(time.Now()) {
			t.Errorf("bob's %s = %v (%v), want from %v to now", k, got["bob"][k], err, sent)
		}
	}

	// Not the sender's: the same 404 as for no such message.
	for _, c := range []struct {
		who  *servertest.API
		path string
		what string
	}{
		{bob, info, "another member"},
		{dave, info, "a stranger"},
		{alice, gpath + "/messages/999/info", "no such message"},
		{alice, gpath + "/messages/1/info", "a system message"},
		{alice, gpath + "/messages/x/info", "a seq that is no number"},
		{alice, "/api/v1/conversations/999999/messages/1/info", "no such conversation"},
	} {
		if r := c.who.Do("GET", c.path, nil); r.Status != 404 || r.Code() != "not_found" {
			t.Errorf("info by %s: %d %s", c.what, r.Status, r.Raw)
		}
	}

	// A removed member is a stranger, and no longer listed.
	carolID := id(carol.Must(200, "GET", "/api/v1/me", nil).Obj("user"), "id")
	alice.Must(204, "DELETE", fmt.Sprintf("%s/members/%d", gpath, carolID), nil)
	if r := carol.Do("GET", info, nil); r.Status != 404 {
		t.Errorf("info by a removed member: %d %s", r.Status, r.Raw)
	}
	if got := members(alice); len(got) != 1 || got["bob"] == nil {
		t.Errorf("info after carol was removed: %v", got)
	}

	// A deleted message has no info.
	alice.Must(200, "DELETE", fmt.Sprintf("%s/messages/%d", gpath, id(m, "seq")), nil)
	if r := alice.Do("GET", info, nil); r.Status != 404 {
		t.Errorf("info of a deleted message: %d %s", r.Status, r.Raw)
	}

	// Above the large-group size: not listed.
	dave.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "trip-code"})
	erin.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "trip-code"})
	m2 := alice.Must(201, "POST", gpath+"/messages", map[string]any{"client_msg_id": "a2", "text": "Platform 3"}).Obj("message")
	r := alice.Must(200, "GET", fmt.Sprintf("%s/messages/%d/info", gpath, id(m2, "seq")), nil)
	if r.Body["listed"] != false || len(r.Body["members"].([]any)) != 0 {
		t.Errorf("info in a group of 4 > 3: %s", r.Raw)
	}
}
