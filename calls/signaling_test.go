package calls_test

import (
	"testing"
	"time"

	"parley/calls"
	"parley/servertest"
)

// pairSetup starts a node and two people with a direct conversation; alice
// signs up first, so her user id is the smaller.
func pairSetup(t *testing.T, cfg calls.Config) (*servertest.Server, user, user, int64) {
	t.Helper()
	srv := start(t, cfg)
	alice, bob := signup(t, srv, "alice"), signup(t, srv, "bob")
	if alice.id >= bob.id {
		t.Fatalf("alice's id %d is not below bob's %d", alice.id, bob.id)
	}
	return srv, alice, bob, direct(t, srv, alice, bob)
}

var cand = map[string]any{"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": nil}

func hasType(frames []map[string]any, typ string) bool {
	for _, f := range frames {
		if f["ev"] == "call" && f["type"] == typ {
			return true
		}
	}
	return false
}

// The whole life of an answered call, seen from two devices each: ring,
// outgoing, trickle ICE before and after the answer, answered elsewhere, a
// refused second accept, hang up with the duration, one system message.
func TestAnswerAndHangUp(t *testing.T) {
	clk := newClock()
	srv, alice, bob, conv := pairSetup(t, calls.Config{Now: clk.Now})
	a1, a2 := dial(t, srv, alice), dial(t, srv, alice)
	b1, b2 := dial(t, srv, bob), dial(t, srv, bob)

	id := a1.invite(conv, "video", "offer-sdp")
	for _, b := range []*peer{b1, b2} {
		ring := b.await("ring", callEv("ring", id))
		from := ring["from"].(map[string]any)
		if num(from["id"]) != alice.id || from["username"] != "alice" || ring["media"] != "video" ||
			ring["sdp"] != "offer-sdp" || num(ring["conversation_id"]) != conv || num(ring["timeout_ms"]) != 45000 {
			t.Fatalf("ring: %v", ring)
		}
	}
	out := a2.await("outgoing", callEv("outgoing", id))
	if num(out["to"]) != bob.id || out["media"] != "video" || num(out["conversation_id"]) != conv {
		t.Fatalf("outgoing: %v", out)
	}

	// The caller trickles candidates before the answer: every ringing
	// device gets them.
	a1.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	for _, b := range []*peer{b1, b2} {
		ice := b.await("early ice", callEv("ice", id))
		if ice["candidate"].(map[string]any)["candidate"] != cand["candidate"] {
			t.Fatalf("ice: %v", ice)
		}
	}
	// A ringing device that has not answered sends nothing.
	b2.fails("not_found", "call_ice", map[string]any{"call_id": id, "candidate": cand})

	b1.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer-sdp"})
	if ans := a1.await("answer", callEv("answer", id)); ans["sdp"] != "answer-sdp" {
		t.Fatalf("answer: %v", ans)
	}
	b2.await("answered elsewhere", callEv("answered_elsewhere", id))
	a2.await("answered elsewhere", callEv("answered_elsewhere", id))
	b2.fails("conflict", "call_accept", map[string]any{"call_id": id, "sdp": "answer-2"})
	b1.fails("conflict", "call_accept", map[string]any{"call_id": id, "sdp": "answer-3"})
	b1.fails("conflict", "call_decline", map[string]any{"call_id": id})
	a1.fails("conflict", "call_cancel", map[string]any{"call_id": id})

	// Trickle both ways, only between the two devices in the call.
	b1.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	a1.await("ice from the callee", callEv("ice", id))
	a1.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	b1.await("ice from the caller", callEv("ice", id))
	a2.fails("not_found", "call_ice", map[string]any{"call_id": id, "candidate": cand})
	b2.fails("not_found", "call_ice", map[string]any{"call_id": id, "candidate": cand})

	clk.Add(61*time.Second + 200*time.Millisecond)
	b1.ok("call_hangup", map[string]any{"call_id": id})
	for _, p := range []*peer{a1, a2, b1, b2} {
		end, skipped := p.awaitSkipping("ended", callEv("ended", id))
		if end["reason"] != "hangup" || num(end["by"]) != bob.id || num(end["seconds"]) != 61 {
			t.Fatalf("%s: ended: %v", p.name, end)
		}
		if hasType(skipped, "ice") {
			t.Errorf("%s got an ICE candidate after the answer: %v", p.name, skipped)
		}
		if (p == a1 || p == b1) && hasType(skipped, "answered_elsewhere") {
			t.Errorf("%s is in the call but got answered_elsewhere", p.name)
		}
	}
	if _, skipped := a1.awaitSkipping("message", callMessage("ended")); hasType(skipped, "outgoing") || hasType(skipped, "ring") {
		t.Errorf("the calling device got its own call announced: %v", skipped)
	}
	b2.await("message", callMessage("ended"))
	sys := expectHistory(t, srv, alice, conv, "ended")[0]
	if sys["media"] != "video" || num(sys["seconds"]) != 61 || num(sys["actor_id"]) != alice.id || num(sys["target_id"]) != bob.id {
		t.Fatalf("system message: %v", sys)
	}
	a1.fails("not_found", "call_hangup", map[string]any{"call_id": id})
	for _, p := range []*peer{a1, a2, b1, b2} {
		p.take(callEv("ice", id)) // any from before the answer
	}
	// Candidates that cross the end are dropped quietly, but only from the
	// two devices that were in the call.
	b1.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	a1.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	a2.fails("not_found", "call_ice", map[string]any{"call_id": id, "candidate": cand})
	b2.fails("not_found", "call_ice", map[string]any{"call_id": id, "candidate": cand})
	b1.fails("not_found", "call_ice", map[string]any{"call_id": "nope", "candidate": cand})
	for _, p := range []*peer{a1, a2, b1, b2} {
		p.ok("ping", nil)
		if late := p.take(callEv("ice", id)); len(late) > 0 {
			t.Errorf("%s got an ICE candidate after the end: %v", p.name, late)
		}
	}
}

func TestDecline(t *testing.T) {
	srv, alice, bob, conv := pairSetup(t, calls.Config{})
	a, b1, b2 := dial(t, srv, alice), dial(t, srv, bob), dial(t, srv, bob)
	id := a.invite(conv, "audio", "offer")
	b1.await("ring", callEv("ring", id))
	b2.await("ring", callEv("ring", id))
	a.fails("invalid", "call_decline", map[string]any{"call_id": id})
	b1.fails("invalid", "call_cancel", map[string]any{"call_id": id})
	b2.ok("call_decline", map[string]any{"call_id": id})
	for _, p := range []*peer{a, b1, b2} {
		if end := p.await("ended", callEv("ended", id)); end["reason"] != "declined" || num(end["by"]) != bob.id {
			t.Fatalf("%s: ended: %v", p.name, end)
		}
	}
	b1.fails("not_found", "call_accept", map[string]any{"call_id": id, "sdp": "late"})
	// The caller's candidates cross the decline (the web app sends them once
	// call_invite is answered): dropped, not refused.
	a.ok("call_ice", map[string]any{"call_id": id, "candidate": cand})
	a.await("message", callMessage("declined"))
	sys := expectHistory(t, srv, bob, conv, "declined")[0]
	if sys["media"] != "audio" || num(sys["actor_id"]) != alice.id {
		t.Fatalf("system message: %v", sys)
	}
}

func TestCancel(t *testing.T) {
	srv, alice, bob, conv := pairSetup(t, calls.Config{})
	a, b := dial(t, srv, alice), dial(t, srv, bob)
	id := a.invite(conv, "audio", "offer")
	b.await("ring", callEv("ring", id))
	a.ok("call_cancel", map[string]any{"call_id": id})
	if end := b.await("ended", callEv("ended", id)); end["reason"] != "cancelled" || num(end["by"]) != alice.id {
		t.Fatalf("ended: %v", end)
	}
	b.await("message", callMessage("missed"))

	// Hanging up while it rings cancels (caller) or declines (callee).
	id = a.invite(conv, "video", "offer")
	b.await("ring", callEv("ring", id))
	a.ok("call_hangup", map[string]any{"call_id": id})
	if end := b.await("ended", callEv("ended", id)); end["reason"] != "cancelled" {
		t.Fatalf("ended: %v", end)
	}
	b.await("message", callMessage("missed"))
	id = a.invite(conv, "video", "offer")
	b.await("ring", callEv("ring", id))
	b.ok("call_hangup", map[string]any{"call_id": id})
	if end := a.await("ended", callEv("ended", id)); end["reason"] != "declined" {
		t.Fatalf("ended: %v", end)
	}
	b.await("message", callMessage("declined"))
	expectHistory(t, srv, alice, conv, "missed", "missed", "declined")
}

func TestRingTimeoutMissed(t *testing.T) {
	srv, alice, bob, conv := pairSetup(t, calls.Config{RingTimeout: 300 * time.Millisecond})
	a, b := dial(t, srv, alice), dial(t, srv, bob)
	id := a.invite(conv, "video", "offer")
	if ring := b.await("ring", callEv("ring", id)); num(ring["timeout_ms"]) != 300 {
		t.Fatalf("ring: %v", ring)
	}
	for _, p := range []*peer{a, b} {
		if end := p.await("ended", callEv("ended", id)); end["reason"] != "missed" || end["by"] != nil {
			t.Fatalf("%s: ended: %v", p.name, end)
		}
	}
	b.fails("not_found", "call_accept", map[string]any{"call_id": id, "sdp": "too late"})
	b.await("message", callMessage("missed"))
	sys := expectHistory(t, srv, bob, conv, "missed")[0]
	if sys["media"] != "video" || num(sys["actor_id"]) != alice.id || num(sys["target_id"]) != bob.id {
		t.Fatalf("system message: %v", sys)
	}
}

func TestBusy(t *testing.T) {
	srv := start(t, calls.Config{})
	alice, bob, carol := signup(t, srv, "alice"), signup(t, srv, "bob"), signup(t, srv, "carol")
	ab, cb, ac := direct(t, srv, alice, bob), direct(t, srv, carol, bob), direct(t, srv, alice, carol)
	a, b, c := dial(t, srv, alice), dial(t, srv, bob), dial(t, srv, carol)

	id := a.invite(ab, "audio", "offer")
	b.await("ring", callEv("ring", id))
	// Bob is being rung: Carol's call is refused before it rings, and Bob
	// finds a missed call from her.
	c.fails("busy", "call_invite", map[string]any{"conversation_id": cb, "media": "audio", "sdp": "offer"})
	b.await("missed call from carol", callMessage("missed"))
	// Alice is calling: she cannot place a second call, nor be called.
	a.fails("conflict", "call_invite", map[string]any{"conversation_id": ac, "media": "audio", "sdp": "offer"})
	c.fails("busy", "call_invite", map[string]any{"conversation_id": ac, "media": "audio", "sdp": "offer"})

	b.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	a.await("answer", callEv("answer", id))
	c.fails("busy", "call_invite", map[string]any{"conversation_id": cb, "media": "video", "sdp": "offer"})
	b.fails("conflict", "call_invite", map[string]any{"conversation_id": cb, "media": "video", "sdp": "offer"})
	b.fails("conflict", "call_invite", map[string]any{"conversation_id": ab, "media": "video", "sdp": "offer"})
	b.await("second missed call from carol", callMessage("missed"))

	a.ok("call_hangup", map[string]any{"call_id": id})
	b.await("ended", callEv("ended", id))
	b.await("message", callMessage("ended"))
	// Free again.
	id2 := c.invite(cb, "audio", "offer")
	b.await("ring", callEv("ring", id2))
	b.ok("call_decline", map[string]any{"call_id": id2})
	c.await("message", callMessage("declined"))

	expectHistory(t, srv, bob, ab, "ended")
	expectHistory(t, srv, bob, cb, "missed", "missed", "declined")
	expectHistory(t, srv, alice, ac, "missed")
}

// Only the two members of a direct conversation call or signal; everyone
// else gets not_found, groups get invalid, bad input gets invalid.
func TestAuthorizationAndValidation(t *testing.T) {
	srv, alice, bob, conv := pairSetup(t, calls.Config{})
	carol := signup(t, srv, "carol")
	a, b, c := dial(t, srv, alice), dial(t, srv, bob), dial(t, srv, carol)

	invite := func(conv int64) map[string]any {
		return map[string]any{"conversation_id": conv, "media": "audio", "sdp": "offer"}
	}
	c.fails("not_found", "call_invite", invite(conv))
	c.fails("not_found", "call_invite", invite(0))
	c.fails("not_found", "call_invite", invite(1_000_000))
	group := servertest.Must(t, srv.URL, alice.token, "POST", "/api/v1/groups", map[string]any{"name": "Climbing"}, 201).Body
	gid := int64(group["conversation"].(map[string]any)["id"].(float64))
	a.fails("invalid", "call_invite", invite(gid))
	c.fails("not_found", "call_invite", invite(gid))

	a.fails("invalid", "call_invite", map[string]any{"conversation_id": conv, "media": "hologram", "sdp": "offer"})
	a.fails("invalid", "call_invite", map[string]any{"conversation_id": conv, "media": "audio"})
	a.fails("invalid", "call_invite", map[string]any{"conversation_id": conv, "media": "audio", "sdp": "offer", "extra": 1})
	a.fails("invalid", "call_invite", map[string]any{"conversation_id": "7", "media": "audio", "sdp": "offer"})

	id := a.invite(conv, "audio", "offer")
	b.await("ring", callEv("ring", id))
	for _, op := range []string{"call_decline", "call_cancel", "call_hangup"} {
		c.fails("not_found", op, map[string]any{"call_id": id})
	}
	c.fails("not_found", "call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	c.fails("not_found", "call_ice", map[string]any{"call_id": id, "candidate": cand})
	for _, bad := range []string{"", "x", "0123456789abcdef.zz", id + "0"} {
		b.fails("not_found", "call_accept", map[string]any{"call_id": bad, "sdp": "answer"})
		b.fails("not_found", "call_decline", map[string]any{"call_id": bad})
	}
	a.fails("invalid", "call_ice", map[string]any{"call_id": id})
	a.fails("invalid", "call_ice", map[string]any{"call_id": id, "candidate": map[string]any{"candidate": "x", "bogus": 1}})
	b.fails("invalid", "call_accept", map[string]any{"call_id": id})

	// The call is untouched by all that.
	b.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
	a.await("answer", callEv("answer", id))
	c.fails("not_found", "call_hangup", map[string]any{"call_id": id})
	a.ok("call_hangup", map[string]any{"call_id": id})
	b.await("message", callMessage("ended"))
	expectHistory(t, srv, alice, conv, "ended")

	// Someone who does not accept messages cannot be called.
	servertest.Must(t, srv.URL, bob.token, "PATCH", "/api/v1/me", map[string]any{"accepting_messages": false}, 200)
	a.fails("not_accepting", "call_invite", invite(conv))
}

func TestDisconnectEndsCall(t *testing.T) {
	t.Run("answering device", func(t *testing.T) {
		srv, alice, bob, conv := pairSetup(t, calls.Config{})
		a, b1, b2 := dial(t, srv, alice), dial(t, srv, bob), dial(t, srv, bob)
		id := a.invite(conv, "video", "offer")
		b1.await("ring", callEv("ring", id))
		b1.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
		a.await("answer", callEv("answer", id))
		b1.c.CloseNow()
		for _, p := range []*peer{a, b2} {
			if end := p.await("ended", callEv("ended", id)); end["reason"] != "disconnected" || num(end["by"]) != bob.id {
				t.Fatalf("%s: ended: %v", p.name, end)
			}
		}
		a.await("message", callMessage("ended"))
		expectHistory(t, srv, alice, conv, "ended")
	})
	t.Run("calling device while ringing", func(t *testing.T) {
		srv, alice, bob, conv := pairSetup(t, calls.Config{})
		a, b := dial(t, srv, alice), dial(t, srv, bob)
		id := a.invite(conv, "audio", "offer")
		b.await("ring", callEv("ring", id))
		a.c.CloseNow()
		if end := b.await("ended", callEv("ended", id)); end["reason"] != "disconnected" || num(end["by"]) != alice.id {
			t.Fatalf("ended: %v", end)
		}
		b.await("message", callMessage("missed"))
		expectHistory(t, srv, bob, conv, "missed")
	})
	t.Run("a device that only rang", func(t *testing.T) {
		srv, alice, bob, conv := pairSetup(t, calls.Config{})
		a, a2, b1, b2 := dial(t, srv, alice), dial(t, srv, alice), dial(t, srv, bob), dial(t, srv, bob)
		id := a.invite(conv, "audio", "offer")
		b1.await("ring", callEv("ring", id))
		a2.await("outgoing", callEv("outgoing", id))
		b2.c.CloseNow()
		a2.c.CloseNow()
		b1.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
		if _, skipped := a.awaitSkipping("answer", callEv("answer", id)); hasType(skipped, "ended") {
			t.Fatalf("the call ended: %v", skipped)
		}
		b1.ok("call_hangup", map[string]any{"call_id": id})
		a.await("message", callMessage("ended"))
		expectHistory(t, srv, alice, conv, "ended")
	})
}

// Glare: Alice (the smaller user id) and Bob call each other at once. Alice's
// call wins whatever the order; Bob's is withdrawn (error glare, or ended
// with reason glare) and leaves no message; Bob's devices ring for Alice's.
func TestGlare(t *testing.T) {
	offer := func(conv int64) map[string]any {
		return map[string]any{"conversation_id": conv, "media": "audio", "sdp": "offer"}
	}
	finish := func(t *testing.T, srv *servertest.Server, alice user, conv int64, a, b *peer, id string) {
		t.Helper()
		b.ok("call_accept", map[string]any{"call_id": id, "sdp": "answer"})
		a.await("answer", callEv("answer", id))
		a.ok("call_hangup", map[string]any{"call_id": id})
		a.await("message", callMessage("ended"))
		b.await("message", callMessage("ended"))
		expectHistory(t, srv, alice, conv, "ended")
	}
	t.Run("the winner calls first", func(t *testing.T) {
		srv, alice, bob, conv := pairSetup(t, calls.Config{})
		a, b := dial(t, srv, alice), dial(t, srv, bob)
		id := a.invite(conv, "audio", "offer")
		b.fails("glare", "call_invite", offer(conv))
		b.await("ring", callEv("ring", id))
		finish(t, srv, alice, conv, a, b, id)
	})
	t.Run("the loser calls first", func(t *testing.T) {
		srv, alice, bob, conv := pairSetup(t, calls.Config{})
		a, b := dial(t, srv, alice), dial(t, srv, bob)
		lost := b.invite(conv, "audio", "offer")
		a.await("ring", callEv("ring", lost))
		won := a.invite(conv, "audio", "offer")
		for _, p := range []*peer{a, b} {
			if end := p.await("ended", callEv("ended", lost)); end["reason"] != "glare" {
				t.Fatalf("%s: ended: %v", p.name, end)
			}
		}
		b.await("ring", callEv("ring", won))
		a.fails("not_found", "call_accept", map[string]any{"call_id": lost, "sdp": "answer"})
		finish(t, srv, alice, conv, a, b, won)
	})
	t.Run("at once", func(t *testing.T) {
		srv, alice, bob, conv := pairSetup(t, calls.Config{})
		a, b := dial(t, srv, alice), dial(t, srv, bob)
		ra, rb := a.send("call_invite", offer(conv)), b.send("call_invite", offer(conv))
		repA, repB := a.await("alice's reply", isReply(ra)), b.await("bob's reply", isReply(rb))
		if repA["ok"] != true {
			t.Fatalf("alice's call lost: %v", repA)
		}
		won := repA["call_id"].(string)
		if repB["ok"] == true {
			lost := repB["call_id"].(string)
			if end := b.await("ended", callEv("ended", lost)); end["reason"] != "glare" {
				t.Fatalf("ended: %v", end)
			}
		} else if repB["error"].(map[string]any)["code"] != "glare" {
			t.Fatalf("bob's reply: %v", repB)
		}
		b.await("ring", callEv("ring", won))
		finish(t, srv, alice, conv, a, b, won)
	})
}
