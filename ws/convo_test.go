package ws_test

import (
	"fmt"
	"testing"

	"parley/servertest"
)

// A reply sent over the WebSocket reaches the members with its preview.
func TestReplyOverWebSocket(t *testing.T) {
	srv := servertest.Start(t)
	at, bt := login(t, srv, "alice"), login(t, srv, "bob")
	d := servertest.Must(t, srv.URL, at, "POST", "/api/v1/direct", map[string]any{"username": "bob"}, 201).Body["conversation"].(map[string]any)
	path := fmt.Sprintf("/api/v1/conversations/%v/messages", d["id"])
	servertest.Must(t, srv.URL, at, "POST", path, map[string]any{"client_msg_id": "a1", "text": "lunch?"}, 201)
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))
	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))

	b.request("send", map[string]any{"conversation_id": d["id"], "client_msg_id": "b1", "text": "yes", "reply_to": 1})
	r := b.await("send reply", reply("1"))
	if r["ok"] != true || r["message"].(map[string]any)["reply_to"] != float64(1) {
		t.Fatalf("send reply: %v", r)
	}
	got := a.await("message", ev("message"))["message"].(map[string]any)
	p, _ := got["reply"].(map[string]any)
	if got["reply_to"] != float64(1) || p == nil || p["text"] != "lunch?" || p["seq"] != float64(1) {
		t.Fatalf("reply event: %v", got)
	}
}

// Reactions reach every member as an event; repeating one announces
// nothing; a device that was away gets the message as a change in its
// sync, by mod.
func TestReactions(t *testing.T) {
	srv := servertest.Start(t)
	at, bt, ct := login(t, srv, "alice"), login(t, srv, "bob"), login(t, srv, "carol")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "react-code"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"]
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "react-code"}, 201)
	path := fmt.Sprintf("/api/v1/conversations/%v/messages", gid)
	sent := servertest.Must(t, srv.URL, at, "POST", path, map[string]any{"client_msg_id": "a1", "text": "vote"}, 201).Body["message"].(map[string]any)
	seq := sent["seq"]
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))
	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))

	b.request("react", map[string]any{"conversation_id": gid, "seq": seq, "emoji": "👍", "on": true})
	var own map[string]any // the reacting connection gets the event too, before the reply
	r := b.await("react reply", func(m map[string]any) bool {
		if m["ev"] == "reaction" {
			own = m
		}
		return m["re"] == "1"
	})
	if r["ok"] != true || r["changed"] != true || own == nil {
		t.Fatalf("react: %v, event %v", r, own)
	}
	for _, e := range []map[string]any{own, a.await("reaction event", ev("reaction"))} {
		if e["emoji"] != "👍" || e["on"] != true || e["seq"] != seq || fmt.Sprint(e["reactions"]) != fmt.Sprintf("[map[count:1 emoji:👍 users:[%v]]]", e["user_id"]) {
			t.Fatalf("reaction event: %v", e)
		}
	}
	mod := r["message"].(map[string]any)["mod"].(float64)
	b.request("react", map[string]any{"conversation_id": gid, "seq": seq, "emoji": "👍", "on": true})
	if r := b.await("repeat reply", reply("2")); r["changed"] != false {
		t.Fatalf("repeat: %v", r)
	}
	// Errors: bad emoji, missing on, past the limits, a stranger.
	for i, c := range []struct {
		fields map[string]any
		code   string
	}{
		{map[string]any{"conversation_id": gid, "seq": seq, "emoji": "yes", "on": true}, "invalid"},
		{map[string]any{"conversation_id": gid, "seq": seq, "emoji": "👍"}, "invalid"},
		{map[string]any{"conversation_id": gid, "seq": 99, "emoji": "👍", "on": true}, "not_found"},
	} {
		b.request("react", c.fields)
		if r := b.await("bad react", reply(fmt.Sprint(i+3))); r["ok"] != false || r["error"].(map[string]any)["code"] != c.code {
			t.Errorf("%v: %v", c.fields, r)
		}
	}
	for i, e := range []string{"🎉", "❤️", "😂"} {
		want := i < 2
		b.request("react", map[string]any{"conversation_id": gid, "seq": seq, "emoji": e, "on": true})
		r := b.await("react", reply(fmt.Sprint(6+i)))
		if r["ok"] != want {
			t.Errorf("reaction %d of bob: %v", i+2, r)
		}
	}
	c := dial(t, srv, ct, true)
	c.await("hello", ev("hello"))
	c.request("react", map[string]any{"conversation_id": gid, "seq": seq, "emoji": "👍", "on": true})
	if r := c.await("stranger", reply("1")); r["error"].(map[string]any)["code"] != "not_found" {
		t.Fatalf("stranger: %v", r)
	}

	// Alice's other device, away since before the reactions, syncs from
	// the mod she held then.
	a2 := dial(t, srv, at, true)
	a2.await("hello", ev("hello"))
	a2.request("sync", map[string]any{"cursors": map[string]any{fmt.Sprint(gid): map[string]any{"seq": seq, "mod": sent["mod"]}}})
	s := a2.await("sync", ev("sync"))
	ch := s["changes"].([]any)
	if len(ch) != 1 {
		t.Fatalf("sync changes: %v", ch)
	}
	got := ch[0].(map[string]any)
	if got["mod"].(float64) <= mod || len(got["reactions"].([]any)) != 3 {
		t.Fatalf("synced change: %v", got)
	}
}
