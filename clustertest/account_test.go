package clustertest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/clustertest"
	"parley/servertest"
)

// socketOn opens a WebSocket with token on the node at base and returns a
// channel that gets the error that ends it, once the node has said hello.
func socketOn(t *testing.T, base, token string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if _, _, err := c.Read(ctx); err != nil { // hello: the node has registered the socket
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// TestPasswordChangeEndsSessionsOnEveryNode: a password changed on one node
// closes the other sessions' sockets on the other nodes with 4001.
func TestPasswordChangeEndsSessionsOnEveryNode(t *testing.T) {
	d := clustertest.New(t)
	nodes := d.StartN(t, 2)
	alice := servertest.SignUp(t, nodes[0].URL, "alice")
	r := servertest.Must(t, nodes[1].URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "password-alice"}, 200)
	onN2 := socketOn(t, nodes[1].URL, r.Body["token"].(string))
	own := socketOn(t, nodes[1].URL, alice.Token)

	alice.Must(200, "POST", "/api/v1/me/password", map[string]any{"current_password": "password-alice", "new_password": "a new password"})
	select {
	case err := <-onN2:
		if websocket.CloseStatus(err) != 4001 {
			t.Fatalf("socket on n2 closed with %v, want 4001", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("socket on n2 still open 10 s after the password change on n1")
	}
	select {
	case err := <-own:
		t.Fatalf("the changing session's socket on n2 closed: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestAccountDeletionEndsSessionsOnEveryNode: an account deleted on one
// node has its sockets on the other node closed with 4001; the other
// person, on that node, finds the direct chat refusing messages.
func TestAccountDeletionEndsSessionsOnEveryNode(t *testing.T) {
	d := clustertest.New(t)
	nodes := d.StartN(t, 2)
	alice := servertest.SignUp(t, nodes[0].URL, "alice")
	bob := servertest.SignUp(t, nodes[1].URL, "bob")
	conv := bob.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "alice"}).Obj("conversation")
	r := servertest.Must(t, nodes[1].URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": "alice", "password": "password-alice"}, 200)
	onN2 := socketOn(t, nodes[1].URL, r.Body["token"].(string))

	alice.Must(204, "POST", "/api/v1/me/delete", map[string]any{"password": "password-alice"})
	select {
	case err := <-onN2:
		if websocket.CloseStatus(err) != 4001 {
			t.Fatalf("socket on n2 closed with %v, want 4001", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("socket on n2 still open 10 s after the deletion on n1")
	}
	send := bob.Do("POST", fmt.Sprintf("/api/v1/conversations/%v/messages", conv["id"]), map[string]any{"client_msg_id": "x", "text": "hello?"})
	if send.Code() != "not_accepting" {
		t.Fatalf("send on n2 to the account deleted on n1: %d %s", send.Status, send.Raw)
	}
}
