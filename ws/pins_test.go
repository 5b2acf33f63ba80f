package ws_test

import (
	"fmt"
	"testing"

	"parley/servertest"
)

// Pins reach every member as a `pins` event; chat list settings reach the
// person's other devices as a `chat_list` event, and no one else.
func TestPinsAndChatListEvents(t *testing.T) {
	srv := servertest.Start(t)
	at, bt := login(t, srv, "alice"), login(t, srv, "bob")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "pins-code"}, 201).Body["conversation"].(map[string]any)
	gid := g["id"]
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "pins-code"}, 201)
	path := fmt.Sprintf("/api/v1/conversations/%v", gid)
	sent := servertest.Must(t, srv.URL, bt, "POST", path+"/messages", map[string]any{"client_msg_id": "b1", "text": "meet at 8"}, 201).Body["message"].(map[string]any)
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))
	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))

	servertest.Must(t, srv.URL, at, "PUT", fmt.Sprintf("%s/pins/%v", path, sent["seq"]), nil, 200)
	e := b.await("pins event", ev("pins"))
	pins := e["pins"].([]any)
	if e["conversation_id"] != gid || len(pins) != 1 || pins[0].(map[string]any)["message"].(map[string]any)["text"] != "meet at 8" {
		t.Fatalf("pins event: %v", e)
	}
	a.await("pins event (pinner)", ev("pins"))

	servertest.Must(t, srv.URL, bt, "PATCH", path+"/chat-list", map[string]any{"archived": true}, 200)
	e = b.await("chat_list event", ev("chat_list"))
	if entry := e["entry"].(map[string]any); entry["conversation_id"] != gid || entry["archived_at"] == nil {
		t.Fatalf("chat_list event: %v", e)
	}
	// Alice hears nothing of Bob's list: the next thing she gets is the unpin.
	servertest.Must(t, srv.URL, at, "DELETE", fmt.Sprintf("%s/pins/%v", path, sent["seq"]), nil, 200)
	if e := a.await("next event", func(m map[string]any) bool { return m["ev"] == "pins" || m["ev"] == "chat_list" }); e["ev"] != "pins" || len(e["pins"].([]any)) != 0 {
		t.Fatalf("alice got %v", e)
	}
}
