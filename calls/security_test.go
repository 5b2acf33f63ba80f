package calls_test

import (
	"strings"
	"testing"

	"parley/calls"
	"parley/service"
)

// TestInviteLimits: invites are limited per caller (20 per 10 minutes) and
// per person called (30, from anyone); an invite over a limit is refused
// with rate_limited before anything rings and leaves no history entry.
func TestInviteLimits(t *testing.T) {
	srv := start(t, calls.Config{})
	alice, bob, carol := signup(t, srv, "alice"), signup(t, srv, "bob"), signup(t, srv, "carol")
	ab, cb := direct(t, srv, alice, bob), direct(t, srv, carol, bob)
	a, b, c := dial(t, srv, alice), dial(t, srv, bob), dial(t, srv, carol)

	cycle := func(p *peer, conv int64) {
		t.Helper()
		id := p.invite(conv, "audio", "offer")
		b.await("ring", callEv("ring", id))
		p.ok("call_cancel", map[string]any{"call_id": id})
		p.await("missed call message", callMessage("missed"))
	}
	refused := func(p *peer, conv int64) {
		t.Helper()
		r := p.do("call_invite", map[string]any{"conversation_id": conv, "media": "audio", "sdp": "offer"})
		e, _ := r["error"].(map[string]any)
		if r["ok"] != false || e["code"] != "rate_limited" || num(e["retry_after_ms"]) <= 0 {
			t.Fatalf("%s's invite over the limit: %v", p.name, r)
		}
	}
	for range service.CallsPerCaller {
		cycle(a, ab)
	}
	refused(a, ab)
	for range service.CallsPerCallee - service.CallsPerCaller {
		cycle(c, cb)
	}
	refused(c, cb)
	if rings := b.take(isEv("call")); len(rings) > 0 {
		for _, f := range rings {
			if f["type"] == "ring" {
				t.Fatalf("a refused invite rang: %v", f)
			}
		}
	}
	want := func(n int) []string { return strings.Split(strings.Repeat("missed,", n)[:len("missed,")*n-1], ",") }
	expectHistory(t, srv, bob, ab, want(service.CallsPerCaller)...)
	expectHistory(t, srv, bob, cb, want(service.CallsPerCallee-service.CallsPerCaller)...)
}

// TestSDPCapped: an offer over 16 KiB is refused.
func TestSDPCapped(t *testing.T) {
	srv := start(t, calls.Config{})
	alice, bob := signup(t, srv, "alice"), signup(t, srv, "bob")
	ab := direct(t, srv, alice, bob)
	a := dial(t, srv, alice)
	r := a.do("call_invite", map[string]any{"conversation_id": ab, "media": "audio", "sdp": strings.Repeat("a", 16<<10+1)})
	if e, _ := r["error"].(map[string]any); r["ok"] != false || e["code"] != "invalid" || e["field"] != "sdp" {
		t.Fatalf("a 16 KiB + 1 offer: %v", r)
	}
	a.invite(ab, "audio", strings.Repeat("a", 16<<10))
}
