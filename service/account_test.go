package service_test

import (
	"testing"

	"parley"
)

// TestBlockedCannotCall: a blocked person's call gets not_accepting, the
// same as a call to someone who accepts no messages; unblocked, it rings.
func TestBlockedCannotCall(t *testing.T) {
	onEveryStore(t, func(t *testing.T, e *env) {
		alice, bob := e.user("alice"), e.user("bob")
		d, _, err := e.svc.Direct(e.ctx, bob.ID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CallPeer(e.ctx, bob.ID, d.ID); err != nil {
			t.Fatalf("call before the block: %v", err)
		}
		if _, err := e.svc.Block(e.ctx, alice.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.CallPeer(e.ctx, bob.ID, d.ID)
		wantCode(t, err, parley.ENOTACCEPTING)
		// The blocker may still call.
		if _, err := e.svc.CallPeer(e.ctx, alice.ID, d.ID); err != nil {
			t.Fatalf("the blocker's call: %v", err)
		}
		// The existing direct chat is still returned to bob (sends to it
		// are refused).
		if again, _, err := e.svc.Direct(e.ctx, bob.ID, "alice"); err != nil || again.ID != d.ID {
			t.Fatalf("Direct for the blocked person = %d, %v; want the existing chat %d", again.ID, err, d.ID)
		}
		if err := e.svc.Unblock(e.ctx, alice.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CallPeer(e.ctx, bob.ID, d.ID); err != nil {
			t.Fatalf("call once unblocked: %v", err)
		}
	})
}
