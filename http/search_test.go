package http_test

import (
	"fmt"
	"net/url"
	"testing"

	"parley/servertest"
)

func texts(r servertest.Answer) []string {
	out := []string{}
	for _, h := range r.Body["messages"].([]any) {
		out = append(out, h.(map[string]any)["message"].(map[string]any)["text"].(string))
	}
	return out
}

// Search finds what a member can read now, with snippets and a cursor;
// strangers and removed members find nothing, and a conversation they
// name is not found, as everywhere.
func TestSearch(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Hiking club", "code": "hike-2026"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": "hike-2026"})
	gpath := fmt.Sprintf("/api/v1/conversations/%d/messages", id(g, "id"))
	for i := 1; i <= 5; i++ {
		alice.Must(201, "POST", gpath, map[string]any{"client_msg_id": fmt.Sprint("h", i), "text": fmt.Sprintf("Trail %d starts at the Mühle", i)})
	}
	bob.Must(201, "POST", gpath, map[string]any{"client_msg_id": "b1", "text": "東京タワーの近くで会いましょう"})
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "carol"}).Obj("conversation")
	alice.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id(d, "id")), map[string]any{"client_msg_id": "c1", "text": "the trail map for carol"})

	search := func(api *servertest.API, query string) servertest.Answer {
		return api.Must(200, "GET", "/api/v1/search?"+query, nil)
	}
	r := search(alice, "q=trail&limit=4")
	if got := fmt.Sprint(texts(r)); got != "[the trail map for carol Trail 5 starts at the Mühle Trail 4 starts at the Mühle Trail 3 starts at the Mühle]" {
		t.Fatalf("page 1: %s", got)
	}
	hit := r.Body["messages"].([]any)[1].(map[string]any)
	if hit["snippet"] != "Trail 5 starts at the Mühle" || fmt.Sprint(hit["matches"]) != "[[0 5]]" ||
		hit["conversation"].(map[string]any)["name"] != "Hiking club" || id(hit["message"].(map[string]any), "seq") == 0 {
		t.Errorf("hit: %v", hit)
	}
	if direct := r.Body["messages"].([]any)[0].(map[string]any)["conversation"].(map[string]any); direct["kind"] != "direct" || direct["name"] != "carol" {
		t.Errorf("a direct conversation is named after the other person: %v", direct)
	}
	cursor, _ := r.Body["next_cursor"].(string)
	if cursor == "" {
		t.Fatalf("page 1 without next_cursor: %s", r.Raw)
	}
	r = search(alice, "q=trail&limit=4&cursor="+url.QueryEscape(cursor))
	if got := fmt.Sprint(texts(r)); got != "[Trail 2 starts at the Mühle Trail 1 starts at the Mühle]" || r.Body["next_cursor"] != nil {
		t.Fatalf("page 2: %s", r.Raw)
	}
	if got := texts(search(alice, "q=M%C3%9CHLE+%22trail+3%22")); fmt.Sprint(got) != "[Trail 3 starts at the Mühle]" {
		t.Errorf("phrase and case: %q", got)
	}
	if got := texts(search(alice, "q=%E3%82%BF%E3%83%AF%E3%83%BC")); fmt.Sprint(got) != "[東京タワーの近くで会いましょう]" {
		t.Errorf("CJK: %q", got)
	}
	if got := texts(search(alice, fmt.Sprintf("q=trail&conversation_id=%d", id(d, "id")))); fmt.Sprint(got) != "[the trail map for carol]" {
		t.Errorf("in a conversation: %q", got)
	}
	if got := texts(search(alice, fmt.Sprintf("q=a&from=%d", bob.UserID))); len(got) != 0 {
		t.Errorf("from bob, a: %q", got)
	}
	if got := texts(search(alice, "q=trail&after=2000-01-01&before=2000-01-02")); len(got) != 0 {
		t.Errorf("in 2000: %q", got)
	}
	if got := texts(search(alice, "q=trail&has_attachment=true")); len(got) != 0 {
		t.Errorf("with attachments: %q", got)
	}

	// Names: the caller's conversations and people.
	r = search(alice, "q=hik")
	if cs := r.Body["conversations"].([]any); len(cs) != 1 || cs[0].(map[string]any)["name"] != "Hiking club" {
		t.Errorf("conversations: %s", r.Raw)
	}
	r = search(alice, "q=car")
	if ps := r.Body["people"].([]any); len(ps) != 1 || ps[0].(map[string]any)["username"] != "carol" {
		t.Errorf("people: %s", r.Raw)
	}

	// Carol reads only her direct chat; asking for the group is not_found.
	if got := texts(search(carol, "q=trail")); fmt.Sprint(got) != "[the trail map for carol]" {
		t.Errorf("carol: %q", got)
	}
	if r := carol.Do("GET", fmt.Sprintf("/api/v1/search?q=trail&conversation_id=%d", id(g, "id")), nil); r.Status != 404 || r.Code() != "not_found" {
		t.Errorf("a stranger naming the group: %d %s", r.Status, r.Raw)
	}
	if r := carol.Do("GET", "/api/v1/search?q=trail&conversation_id=999999", nil); r.Status != 404 || r.Code() != "not_found" {
		t.Errorf("no such conversation: %d %s", r.Status, r.Raw)
	}

	// Edits and deletions: the old text is never found.
	// (seq 1 is the group's creation, 2 bob's joining.)
	alice.Must(200, "PATCH", gpath+"/3", map[string]any{"text": "the ridge walk"})
	alice.Must(200, "DELETE", gpath+"/4", nil)
	if got := texts(search(bob, "q=trail")); fmt.Sprint(got) != "[Trail 5 starts at the Mühle Trail 4 starts at the Mühle Trail 3 starts at the Mühle]" {
		t.Errorf("after an edit and a deletion: %q", got)
	}

	// Bob removed: he finds nothing of the group.
	alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", id(g, "id"), bob.UserID), nil)
	if got := texts(search(bob, "q=trail")); len(got) != 0 {
		t.Errorf("removed member: %q", got)
	}
	if r := bob.Do("GET", fmt.Sprintf("/api/v1/search?q=trail&conversation_id=%d", id(g, "id")), nil); r.Status != 404 {
		t.Errorf("removed member naming the group: %d %s", r.Status, r.Raw)
	}

	for _, bad := range []struct{ query, field string }{
		{"q=", "q"}, {"q=%20%22%22", "q"}, {"q=" + url.QueryEscape(fmt.Sprintf("%0201d", 0)), "q"},
		{"q=a+b+c+d+e+f+g+h+i", "q"}, {"q=x&limit=0", "limit"}, {"q=x&limit=51", "limit"},
		{"q=x&cursor=abc", "cursor"}, {"q=x&after=yesterday", "after"}, {"q=x&before=2026-13-01", "before"},
		{"q=x&has_attachment=maybe", "has_attachment"}, {"q=x&from=-1", "from"},
	} {
		if r := alice.Do("GET", "/api/v1/search?"+bad.query, nil); r.Status != 400 || r.Code() != "invalid" || r.Field() != bad.field {
			t.Errorf("%s: %d %s", bad.query, r.Status, r.Raw)
		}
	}
	if r := servertest.Do(t, srv.URL, "", "GET", "/api/v1/search?q=trail", nil); r.Status != 401 {
		t.Errorf("without a session: %d", r.Status)
	}
}
