package http_test

import (
	"fmt"
	"testing"

	"parley/servertest"
)

// TestMentions: @username of a member is a mention, stored with the
// message; others are plain text; edits follow the text; the mentioned
// member's conversation counts unread mentions.
func TestMentions(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")
	servertest.SignUp(t, srv.URL, "dave") // exists, not a member
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Club"}).Obj("conversation")
	gid := id(g, "id")
	for _, u := range []*servertest.API{bob, carol} {
		u.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": g["code"]})
	}
	me := func(a *servertest.API) int64 { return id(a.Must(200, "GET", "/api/v1/me", nil).Obj("user"), "id") }
	bobID, carolID := me(bob), me(carol)
	path := fmt.Sprintf("/api/v1/conversations/%d", gid)

	m := alice.Must(201, "POST", path+"/messages", map[string]any{"client_msg_id": "m1",
		"text": "@Bob and @carol. not @dave, not bob@example.com, @nobody"}).Obj("message")
	if got := fmt.Sprint(m["mentions"]); got != fmt.Sprint([]any{float64(bobID), float64(carolID)}) {
		t.Fatalf("mentions = %s, want [%d %d]", got, bobID, carolID)
	}
	plain := alice.Must(201, "POST", path+"/messages", map[string]any{"client_msg_id": "m2", "text": "hi all"}).Obj("message")
	if _, ok := plain["mentions"]; ok {
		t.Fatalf("a message without mentions has %v", plain["mentions"])
	}
	unread := func(a *servertest.API) float64 {
		return a.Must(200, "GET", path, nil).Obj("conversation")["unread_mentions"].(float64)
	}
	if n := unread(bob); n != 1 {
		t.Fatalf("bob's unread mentions = %v, want 1", n)
	}
	seq := int64(m["seq"].(float64))
	e := alice.Must(200, "PATCH", fmt.Sprintf("%s/messages/%d", path, seq), map[string]any{"text": "only @carol"}).Obj("message")
	if got := fmt.Sprint(e["mentions"]); got != fmt.Sprint([]any{float64(carolID)}) {
		t.Fatalf("mentions after edit = %s", got)
	}
	if n := unread(bob); n != 0 {
		t.Fatalf("bob's unread mentions after the edit = %v, want 0", n)
	}
	carol.Must(200, "POST", path+"/read", map[string]any{"seq": seq})
	if n := unread(carol); n != 0 {
		t.Fatalf("carol's unread mentions after reading = %v, want 0", n)
	}
}

func TestNotifySettings(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Club"}).Obj("conversation")
	path := fmt.Sprintf("/api/v1/conversations/%d", id(g, "id"))
	if n := alice.Must(200, "GET", path, nil).Obj("conversation", "notify"); n["level"] != "default" || n["muted_until"] != nil {
		t.Fatalf("default notify = %v", n)
	}
	r := alice.Must(200, "PATCH", path+"/settings", map[string]any{"level": "mentions", "mute": "8h"})
	if n := r.Obj("notify"); n["level"] != "mentions" || n["muted_until"] == nil {
		t.Fatalf("after PATCH: %v", n)
	}
	r = alice.Must(200, "PATCH", path+"/settings", map[string]any{"mute": "always"})
	if n := r.Obj("notify"); n["level"] != "mentions" || n["muted_until"] != "9999-12-31T00:00:00Z" {
		t.Fatalf("muted always: %v", n)
	}
	r = alice.Must(200, "PATCH", path+"/settings", map[string]any{"mute": "off", "level": "default"})
	if n := r.Obj("notify"); n["level"] != "default" || n["muted_until"] != nil {
		t.Fatalf("unmuted: %v", n)
	}
	if n := alice.Must(200, "GET", "/api/v1/conversations", nil).Body["conversations"].([]any)[0].(map[string]any)["notify"]; fmt.Sprint(n) != "map[level:default]" {
		t.Fatalf("listed notify = %v", n)
	}
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"level": "loud"}, "level"},
		{map[string]any{"level": ""}, "level"},
		{map[string]any{"mute": "2h"}, "mute"},
		{map[string]any{"mute": 60}, "mute"},
		{map[string]any{}, ""},
		{map[string]any{"level": "all", "extra": 1}, "extra"},
	} {
		r := alice.Do("PATCH", path+"/settings", tc.body)
		if r.Status != 400 || r.Code() != "invalid" || r.Field() != tc.field {
			t.Fatalf("PATCH %v: %d %s field %q, want 400 invalid field %q", tc.body, r.Status, r.Raw, r.Field(), tc.field)
		}
	}
	// A non-member gets the answer for a conversation that does not exist.
	if r := bob.Do("PATCH", path+"/settings", map[string]any{"level": "off"}); r.Status != 404 || r.Code() != "not_found" {
		t.Fatalf("non-member: %d %s", r.Status, r.Raw)
	}
	if r := alice.Do("PATCH", "/api/v1/conversations/999999/settings", map[string]any{"level": "off"}); r.Status != 404 {
		t.Fatalf("unknown conversation: %d %s", r.Status, r.Raw)
	}
}

func TestHideNotificationText(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	u := alice.Must(200, "PATCH", "/api/v1/me", map[string]any{"hide_notification_text": true}).Obj("user")
	if u["hide_notification_text"] != true {
		t.Fatalf("PATCH /me: %v", u)
	}
	if u := alice.Must(200, "GET", "/api/v1/me", nil).Obj("user"); u["hide_notification_text"] != true {
		t.Fatalf("GET /me: %v", u)
	}
	// Nobody else learns it.
	if u := bob.Must(200, "GET", "/api/v1/users/alice", nil).Obj("user"); u["hide_notification_text"] != nil {
		t.Fatalf("alice as bob sees her: %v", u)
	}
	d := bob.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "alice"}).Obj("conversation")
	if p := d["peer"].(map[string]any); p["hide_notification_text"] != nil {
		t.Fatalf("peer: %v", p)
	}
}
