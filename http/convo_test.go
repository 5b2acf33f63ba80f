package http_test

import (
	"fmt"
	"testing"

	"parley/servertest"
)

func seqs(r servertest.Answer) []int64 {
	var out []int64
	for _, m := range r.Body["messages"].([]any) {
		out = append(out, id(m.(map[string]any), "seq"))
	}
	return out
}

// A reply carries reply_to and the original's preview; the original's
// history page opens around it.
func TestRepliesAndAround(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id(d, "id"))
	for i := 1; i <= 9; i++ {
		alice.Must(201, "POST", path, map[string]any{"client_msg_id": fmt.Sprint("a", i), "text": fmt.Sprintf("message %d\nmore", i)})
	}
	r := bob.Must(201, "POST", path, map[string]any{"client_msg_id": "b1", "text": "that one", "reply_to": 3})
	m := r.Obj("message")
	if id(m, "reply_to") != 3 {
		t.Fatalf("reply: %s", r.Raw)
	}
	p := r.Obj("message", "reply")
	if id(p, "seq") != 3 || p["text"] != "message 3" || p["kind"] != "text" || p["sender"].(map[string]any)["username"] != "alice" {
		t.Fatalf("reply preview: %v", p)
	}
	for _, bad := range []any{10 + 1, -1, "3"} {
		r := bob.Do("POST", path, map[string]any{"client_msg_id": fmt.Sprint("bad", bad), "text": "x", "reply_to": bad})
		if r.Status != 400 || r.Code() != "invalid" || r.Field() != "reply_to" {
			t.Errorf("reply_to %v: %d %s", bad, r.Status, r.Raw)
		}
	}

	// around_seq: limit/2 before, the rest from it on, and where more lie.
	for _, c := range []struct {
		around, limit  int
		want           string
		before, after_ bool
	}{
		{3, 4, "[1 2 3 4]", false, true},
		{5, 4, "[3 4 5 6]", true, true},
		{9, 4, "[7 8 9 10]", true, false},
		{10, 50, "[1 2 3 4 5 6 7 8 9 10]", false, false},
	} {
		r := bob.Must(200, "GET", fmt.Sprintf("%s?around_seq=%d&limit=%d", path, c.around, c.limit), nil)
		if got := fmt.Sprint(seqs(r)); got != c.want || r.Body["has_more_before"] != c.before || r.Body["has_more_after"] != c.after_ {
			t.Errorf("around %d limit %d: %s before %v after %v, want %s %v %v", c.around, c.limit, got,
				r.Body["has_more_before"], r.Body["has_more_after"], c.want, c.before, c.after_)
		}
	}
	last := bob.Must(200, "GET", path+"?around_seq=10&limit=10", nil).Body["messages"].([]any)
	if reply := last[len(last)-1].(map[string]any); reply["reply"] == nil {
		t.Errorf("around page without the reply's preview: %v", reply)
	}
	for _, bad := range []string{"around_seq=0", "around_seq=x", "around_seq=3&before_seq=2", "around_seq=3&after_seq=1", "around_seq=3&limit=201"} {
		if r := bob.Do("GET", path+"?"+bad, nil); r.Status != 400 || r.Code() != "invalid" {
			t.Errorf("%s: %d %s", bad, r.Status, r.Raw)
		}
	}

	// Deleting the original leaves "deleted" in the preview.
	alice.Must(200, "DELETE", path+"/3", nil)
	r = bob.Must(200, "GET", path+"?after_seq=9", nil)
	p = r.Body["messages"].([]any)[0].(map[string]any)["reply"].(map[string]any)
	if p["deleted"] != true || p["text"] != "" {
		t.Fatalf("preview of a deleted original: %v", p)
	}
}

// Pins: admins in groups, either person in a direct chat, strangers
// not_found; the chat list's settings are each person's own.
func TestPinsAndChatList(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Trip", "code": "trip-code"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "trip-code"})
	gpath := fmt.Sprintf("/api/v1/conversations/%d", id(g, "id"))
	seq := id(bob.Must(201, "POST", gpath+"/messages", map[string]any{"client_msg_id": "b1", "text": "Meet at 8\nplatform 3"}).Obj("message"), "seq")
	pin := fmt.Sprintf("%s/pins/%d", gpath, seq)

	if r := bob.Do("PUT", pin, nil); r.Status != 403 || r.Code() != "forbidden" {
		t.Fatalf("member pins in a group: %d %s", r.Status, r.Raw)
	}
	if r := carol.Do("PUT", pin, nil); r.Status != 404 {
		t.Fatalf("stranger pins: %d %s", r.Status, r.Raw)
	}
	if r := carol.Do("GET", gpath+"/pins", nil); r.Status != 404 {
		t.Fatalf("stranger lists pins: %d %s", r.Status, r.Raw)
	}
	r := alice.Must(200, "PUT", pin, nil)
	if r.Body["changed"] != true || len(r.Body["pins"].([]any)) != 1 {
		t.Fatalf("pin: %s", r.Raw)
	}
	p := bob.Must(200, "GET", gpath+"/pins", nil).Body["pins"].([]any)[0].(map[string]any)
	if id(p, "seq") != seq || p["message"].(map[string]any)["text"] != "Meet at 8" || id(p, "pinned_by") != id(alice.Must(200, "GET", "/api/v1/me", nil).Obj("user"), "id") {
		t.Fatalf("pins: %v", p)
	}
	if r := alice.Must(200, "PUT", pin, nil); r.Body["changed"] != false {
		t.Fatalf("pin again: %s", r.Raw)
	}
	for _, bad := range []string{gpath + "/pins/999", gpath + "/pins/x", "/api/v1/conversations/0/pins/1"} {
		if r := alice.Do("PUT", bad, nil); r.Status != 404 && r.Status != 400 {
			t.Errorf("PUT %s: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := alice.Do("PUT", gpath+"/pins/1", nil); r.Status != 400 || r.Code() != "invalid" {
		t.Errorf("pin a system message: %d %s", r.Status, r.Raw)
	}
	if r := alice.Must(200, "DELETE", pin, nil); r.Body["changed"] != true || len(r.Body["pins"].([]any)) != 0 {
		t.Fatalf("unpin: %s", r.Raw)
	}
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	dpath := fmt.Sprintf("/api/v1/conversations/%d", id(d, "id"))
	dseq := id(alice.Must(201, "POST", dpath+"/messages", map[string]any{"client_msg_id": "a1", "text": "hi"}).Obj("message"), "seq")
	bob.Must(200, "PUT", fmt.Sprintf("%s/pins/%d", dpath, dseq), nil)

	// Chat list.
	e := bob.Must(200, "PATCH", gpath+"/chat-list", map[string]any{"pinned": true, "marked_unread": true}).Obj("entry")
	if e["pinned_at"] == nil || e["marked_unread"] != true || e["archived_at"] != nil {
		t.Fatalf("chat list entry: %v", e)
	}
	bob.Must(200, "PATCH", dpath+"/chat-list", map[string]any{"archived": true})
	list := bob.Must(200, "GET", "/api/v1/me/chat-list", nil).Body["chat_list"].([]any)
	if len(list) != 2 {
		t.Fatalf("bob's chat list: %v", list)
	}
	if list := alice.Must(200, "GET", "/api/v1/me/chat-list", nil).Body["chat_list"].([]any); len(list) != 0 {
		t.Fatalf("alice's chat list: %v", list)
	}
	for _, bad := range []map[string]any{{"pinned": "yes"}, {"other": true}} {
		if r := bob.Do("PATCH", gpath+"/chat-list", bad); r.Status != 400 || r.Code() != "invalid" {
			t.Errorf("chat list %v: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := carol.Do("PATCH", gpath+"/chat-list", map[string]any{"pinned": true}); r.Status != 404 {
		t.Errorf("stranger's chat list: %d %s", r.Status, r.Raw)
	}
}
