package ws_test

import (
	"context"
	"fmt"
	"parley/app"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/servertest"
)

// TestBinaryFrameRefused: a binary frame closes the connection with 1003
// instead of being answered, so binary frames cannot get past the
// operation limit.
func TestBinaryFrameRefused(t *testing.T) {
	srv := servertest.Start(t)
	a := dial(t, srv, login(t, srv, "alice"), true)
	a.await("hello", ev("hello"))
	if err := a.c.Write(context.Background(), websocket.MessageBinary, []byte(`{"op":"ping","id":"1"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		if websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Fatalf("closed with %v, want 1003", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("socket still open 10 s after a binary frame")
	}
}

// TestRemovedMemberIsBanned: a removed member's resend of an old
// client_msg_id is not_found and announces nothing; the removal is a ban
// (no rejoining by code) until an admin adds them back with
// POST /conversations/{id}/members; leaving is no ban.
func TestRemovedMemberIsBanned(t *testing.T) {
	srv := servertest.Start(t)
	at, bt, ct := login(t, srv, "alice"), login(t, srv, "bob"), login(t, srv, "carol")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "club-code"}, 201).Body["conversation"].(map[string]any)
	base := fmt.Sprintf("/api/v1/conversations/%v", g["id"])
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "club-code"}, 201)
	servertest.Must(t, srv.URL, ct, "POST", "/api/v1/groups/join", map[string]any{"code": "club-code"}, 201)
	servertest.Must(t, srv.URL, bt, "POST", base+"/messages", map[string]any{"client_msg_id": "b1", "text": "hi"}, 201)
	a := dial(t, srv, at, true)
	a.await("hello", ev("hello"))
	bob := &peer{token: bt}
	bid := bob.userID(t, srv)
	servertest.Must(t, srv.URL, at, "DELETE", fmt.Sprintf("%s/members/%d", base, bid), nil, 204)

	// The resend: not_found, and nothing reaches the group.
	servertest.Must(t, srv.URL, bt, "POST", base+"/messages", map[string]any{"client_msg_id": "b1", "text": "hi"}, 404)
	a.request("ping", nil)
	for {
		m := a.await("ping reply", func(map[string]any) bool { return true })
		if m["ev"] == "message" && m["message"].(map[string]any)["kind"] != "system" {
			t.Fatalf("a removed member's resend was announced: %v", m)
		}
		if m["re"] == "1" {
			break
		}
	}

	// Banned: the code no longer lets bob in.
	if out := servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "club-code"}, 403).Body; out["error"].(map[string]any)["code"] != "forbidden" {
		t.Fatal(out)
	}
	// Only admins add people; not to direct chats; known usernames only.
	servertest.Must(t, srv.URL, ct, "POST", base+"/members", map[string]any{"username": "bob"}, 403)
	if out := servertest.Must(t, srv.URL, at, "POST", base+"/members", map[string]any{"username": "nobody"}, 404).Body; out["error"].(map[string]any)["field"] != "username" {
		t.Fatal(out)
	}
	d := servertest.Must(t, srv.URL, at, "POST", "/api/v1/direct", map[string]any{"username": "carol"}, 201).Body["conversation"].(map[string]any)
	servertest.Must(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/members", d["id"]), map[string]any{"username": "bob"}, 400)

	// An admin adds bob back: he is told, the group sees an "added" message.
	b := dial(t, srv, bt, true)
	b.await("hello", ev("hello"))
	m := servertest.Must(t, srv.URL, at, "POST", base+"/members", map[string]any{"username": "BOB"}, 201).Body["member"].(map[string]any)
	if int64(m["user_id"].(float64)) != bid || m["role"] != "member" {
		t.Fatal(m)
	}
	b.await("added", func(m map[string]any) bool { return m["ev"] == "conversation" && m["change"] == "added" })
	sys := a.await("added message", func(m map[string]any) bool {
		return m["ev"] == "message" && m["message"].(map[string]any)["kind"] == "system"
	})["message"].(map[string]any)["system"].(map[string]any)
	if sys["event"] != "added" || int64(sys["target_id"].(float64)) != bid {
		t.Fatal(sys)
	}
	servertest.Must(t, srv.URL, at, "POST", base+"/members", map[string]any{"username": "bob"}, 200)
	servertest.Must(t, srv.URL, bt, "POST", base+"/messages", map[string]any{"client_msg_id": "b2", "text": "back"}, 201)

	// Leaving is no ban.
	servertest.Must(t, srv.URL, bt, "POST", base+"/leave", nil, 204)
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "club-code"}, 201)
}

// TestSocketClosedWhenSessionExpires: a WebSocket is closed with 4001 when
// its session expires, after the expiry is checked again in the store (a
// session whose expiry moved on keeps its socket until the new one).
func TestSocketClosedWhenSessionExpires(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Service.SessionTTL = 2 * time.Second }))
	login(t, srv, "alice")
	out := servertest.Must(t, srv.URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "password-alice"}, 200).Body
	tok, sid := out["token"].(string), int64(out["session_id"].(float64))
	a := dial(t, srv, tok, true)
	a.await("hello", ev("hello"))

	// Extend the session in the store, as a use of it elsewhere would.
	first := time.Now().Add(2 * time.Second)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := srv.Node.Store.TouchSession(context.Background(), sid, now, now.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		if websocket.CloseStatus(err) != 4001 {
			t.Fatalf("closed with %v, want 4001", err)
		}
		if time.Now().Before(first) {
			t.Fatal("closed at the first expiry although the session was extended")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("socket still open 20 s after its session expired")
	}
}
