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
