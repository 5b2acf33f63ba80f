package clustertest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/clustertest"
	"parley/servertest"
)

// TestDisabledUserEndsOnEveryNode: an admin on one node disables a user
// whose sockets are on both nodes (NATS, PostgreSQL): every socket closes
// with 4001 at once, and no node takes the user's sessions or logins any
// more; enabled again, they log in anywhere.
func TestDisabledUserEndsOnEveryNode(t *testing.T) {
	d := clustertest.New(t)
	nodes := d.StartN(t, 2)
	admin := servertest.SignUp(t, nodes[0].URL, "admin")
	bob := servertest.SignUp(t, nodes[1].URL, "bob")
	r := servertest.Must(t, nodes[0].URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": "bob", "password": "password-bob"}, 200)
	bob2 := &servertest.API{T: t, Base: nodes[0].URL, Token: r.Body["token"].(string)}
	sockets := []<-chan error{socketOn(t, nodes[1].URL, bob.Token), socketOn(t, nodes[0].URL, bob2.Token)}
	adminSocket := socketOn(t, nodes[1].URL, admin.Token)

	admin.Must(200, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", bob.UserID), map[string]any{"disabled": true})
	for i, s := range sockets {
		select {
		case err := <-s:
			if websocket.CloseStatus(err) != 4001 {
				t.Fatalf("bob's socket %d closed with %v, want 4001", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("bob's socket %d still open 10 s after he was disabled", i)
		}
	}
	for _, n := range nodes {
		if r := servertest.Do(t, n.URL, bob.Token, "GET", "/api/v1/me", nil); r.Status != 401 {
			t.Errorf("bob's session on %s: %d", n.URL, r.Status)
		}
		if r := servertest.Do(t, n.URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": "bob", "password": "password-bob"}); r.Status != 403 {
			t.Errorf("bob's login on %s: %d", n.URL, r.Status)
		}
	}
	select {
	case err := <-adminSocket:
		t.Fatalf("the admin's own socket closed: %v", err)
	default:
	}
	servertest.Must(t, nodes[1].URL, admin.Token, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", bob.UserID), map[string]any{"disabled": false}, 200)
	servertest.Must(t, nodes[1].URL, "", "POST", "/api/v1/auth/login", map[string]any{"login": "bob", "password": "password-bob"}, 200)
}
