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
	d := call(t, srv.URL, at, "POST", "/api/v1/direct", map[string]any{"username": "bob"}, 201)["conversation"].(map[string]any)
	path := fmt.Sprintf("/api/v1/conversations/%v/messages", d["id"])
	call(t, srv.URL, at, "POST", path, map[string]any{"client_msg_id": "a1", "text": "lunch?"}, 201)
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
