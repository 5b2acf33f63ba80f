package ws_test

import (
	"fmt"
	"testing"

	"parley/media/mediatest"
	"parley/servertest"
)

// A send over the WebSocket carries attachments; members get them live and
// in a sync; a profile photo change reaches the people one talks with.
func TestAttachmentsOverWebSocket(t *testing.T) {
	srv := servertest.Start(t)
	at, bt := login(t, srv, "alice"), login(t, srv, "bob")
	d := servertest.Must(t, srv.URL, at, "POST", "/api/v1/direct", map[string]any{"username": "bob"}, 201).Body["conversation"].(map[string]any)
	did := int64(d["id"].(float64))
	up := servertest.Must(t, srv.URL, at, "POST", "/api/v1/uploads?name=cat.png", servertest.Body{ContentType: "image/png", Data: mediatest.PNG(64, 48)}, 201).Body["upload"].(map[string]any)

	a, b := dial(t, srv, at, true), dial(t, srv, bt, true)
	a.await("hello", ev("hello"))
	b.await("hello", ev("hello"))
	a.request("send", map[string]any{"conversation_id": did, "client_msg_id": "p1", "text": "my cat",
		"attachments": []any{up["id"]}})
	r := a.await("send reply", reply("1"))
	if r["ok"] != true {
		t.Fatalf("send: %v", r)
	}
	want := fmt.Sprint([]any{map[string]any{"id": up["id"], "name": "cat.png", "size": up["size"], "content_type": "image/png",
		"width": 64.0, "height": 48.0, "url": up["url"], "thumbnail_url": up["thumbnail_url"]}})
	if got := fmt.Sprint(r["message"].(map[string]any)["attachments"]); got != want {
		t.Fatalf("reply attachments %s, want %s", got, want)
	}
	live := b.await("message", ev("message"))
	if got := fmt.Sprint(live["message"].(map[string]any)["attachments"]); got != want {
		t.Fatalf("live attachments %s", got)
	}
	// Sending the upload again, in another message, is refused with a field.
	a.request("send", map[string]any{"conversation_id": did, "client_msg_id": "p2", "text": "again",
		"attachments": []any{up["id"]}})
	r = a.await("refusal", reply("2"))
	if r["ok"] != false || r["error"].(map[string]any)["field"] != "attachments" {
		t.Fatalf("second attach: %v", r)
	}
	b2 := dial(t, srv, bt, true)
	b2.await("hello", ev("hello"))
	b2.request("sync", map[string]any{"cursors": map[string]any{}})
	s := b2.await("sync", ev("sync"))
	msgs := s["messages"].([]any)
	if got := fmt.Sprint(msgs[len(msgs)-1].(map[string]any)["attachments"]); got != want {
		t.Fatalf("synced attachments %s", got)
	}

	// Alice's new photo: bob hears of it (member event, change "profile").
	me := servertest.Must(t, srv.URL, at, "PUT", "/api/v1/me/avatar", servertest.Body{ContentType: "image/jpeg", Data: mediatest.JPEG(400, 300, 1)}, 200).Body["user"].(map[string]any)
	if me["avatar_url"] == nil || me["email"] != "alice@example.com" {
		t.Fatalf("PUT avatar: %v", me)
	}
	m := b.await("profile", func(m map[string]any) bool { return m["ev"] == "member" && m["change"] == "profile" })
	if m["member"].(map[string]any)["avatar_url"] != me["avatar_url"] {
		t.Fatalf("profile event: %v", m)
	}
}
