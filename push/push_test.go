package push_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	dto "github.com/prometheus/client_model/go"

	"parley/app"
	"parley/calls"
	"parley/client"
	"parley/push/pushtest"
	"parley/servertest"
)

// testDelay is the --push-delay of these tests.
const testDelay = 400 * time.Millisecond

// world is a node, its push service and helpers.
type world struct {
	t   *testing.T
	srv *servertest.Server
	ps  *pushtest.Service
}

func start(t *testing.T, opts ...func(c *app.Config)) *world {
	ps := pushtest.Start(t, "")
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Push.AllowedHosts = []string{ps.Host}
		c.Push.Delay = testDelay
		c.Push.Poll = 25 * time.Millisecond
		for _, o := range opts {
			o(c)
		}
	}))
	ps.SetKey(srv.Node.Push.PublicKey())
	return &world{t: t, srv: srv, ps: ps}
}

// person signs up and, with a subscription name, registers it.
func (w *world) person(name string, subs ...string) *servertest.API {
	a := servertest.SignUp(w.t, w.srv.URL, name)
	for _, s := range subs {
		a.Must(201, "POST", "/api/v1/push/subscriptions", w.ps.Subscribe(s).JSON(s))
	}
	return a
}

func (w *world) group(owner *servertest.API, name string, members ...*servertest.API) int64 {
	g := owner.Must(201, "POST", "/api/v1/groups", map[string]any{"name": name}).Obj("conversation")
	for _, m := range members {
		m.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": g["code"]})
	}
	return int64(g["id"].(float64))
}

var msgN int

func send(a *servertest.API, conv int64, text string) map[string]any {
	msgN++
	return a.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv),
		map[string]any{"client_msg_id": fmt.Sprintf("m%d", msgN), "text": text}).Obj("message")
}

// waitPushes waits until sub has n pushes, then a while longer to see that
// no more come, and returns them.
func (w *world) waitPushes(sub string, n int) []pushtest.Push {
	w.t.Helper()
	servertest.WaitFor(w.t, 20*time.Second, func() bool { return len(w.ps.Pushes(sub)) >= n },
		"%d pushes to %s (have %d)", n, sub, len(w.ps.Pushes(sub)))
	time.Sleep(3 * testDelay)
	got := w.ps.Pushes(sub)
	if len(got) != n {
		w.t.Fatalf("%d pushes to %s, want %d: %v", len(got), sub, n, payloads(got))
	}
	return got
}

func payloads(ps []pushtest.Push) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.Raw))
	}
	return out
}

func (w *world) counter(name, reason string) float64 {
	w.t.Helper()
	mfs, err := w.srv.Node.Metrics.Gather()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if reason == "" || labelIs(m, "reason", reason) {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				if m.Histogram != nil {
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	return 0
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestPushOfflineMember: a member none of whose devices has a message gets
// one push per subscription after the delay, encrypted for it, signed with
// the advertised key, with the payload of docs/protocol.md; the sender gets
// none.
func TestPushOfflineMember(t *testing.T) {
	w := start(t)
	alice := w.person("alice", "alice-phone")
	w.person("bob", "bob-phone", "bob-laptop")
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	conv := int64(d["id"].(float64))
	sent := time.Now()
	m := send(alice, conv, "see you at 7\n  at the usual place")
	got := w.waitPushes("bob-phone", 1)
	w.waitPushes("bob-laptop", 1)
	p := got[0]
	if p.At.Sub(sent) < testDelay {
		t.Errorf("pushed %v after the send, before the delay %v", p.At.Sub(sent), testDelay)
	}
	want := map[string]any{"type": "message", "conversation_id": float64(conv), "seq": m["seq"], "title": "alice",
		"body": "see you at 7 at the usual place", "tag": fmt.Sprintf("conversation-%d", conv),
		"url": fmt.Sprintf("/c/%d", conv), "count": float64(1), "badge": float64(1), "sender_id": m["sender_id"]}
	for k, v := range want {
		if p.Payload[k] != v {
			t.Errorf("payload %s = %v, want %v (%s)", k, p.Payload[k], v, p.Raw)
		}
	}
	if p.Urgency != "high" || p.Topic != fmt.Sprintf("conversation-%d", conv) || p.TTL != 86400 {
		t.Errorf("urgency %q topic %q TTL %d, want high, conversation-%d, 86400", p.Urgency, p.Topic, p.TTL, conv)
	}
	if n := len(w.ps.Pushes("alice-phone")); n != 0 {
		t.Errorf("the sender got %d pushes", n)
	}
	if n := w.counter("parley_push_sent_total", ""); n != 2 {
		t.Errorf("parley_push_sent_total = %v, want 2", n)
	}
	if n := w.counter("parley_push_delay_seconds", ""); n != 2 {
		t.Errorf("push delay histogram count = %v, want 2", n)
	}
	// Each subscription's last_used moved to the push.
	// A message after the push is a new burst: one more push.
	send(alice, conv, "still on?")
	got = w.waitPushes("bob-phone", 2)
	if got[1].Payload["body"] != "still on?" || got[1].Payload["badge"] != float64(2) {
		t.Errorf("second push %s", got[1].Raw)
	}
}

// TestPushOnlineAndReadElsewhere: a member whose connected device reports
// the message delivered, and one who read it on another device before the
// delay, get nothing; an offline member of the same group does.
func TestPushOnlineAndReadElsewhere(t *testing.T) {
	w := start(t, func(c *app.Config) { c.Push.Delay = 2 * time.Second })
	alice := w.person("alice")
	bob := w.person("bob", "bob-phone")
	carol := w.person("carol", "carol-phone")
	dave := w.person("dave", "dave-phone")
	g := w.group(alice, "Club", bob, carol, dave)

	ctx := context.Background()
	c := client.New(w.srv.URL)
	if _, err := c.Login(ctx, "bob", "password-bob"); err != nil {
		t.Fatal(err)
	}
	rt, err := c.Connect(ctx, client.Handler{}, client.WithAutoReceipts(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	m := send(alice, g, "lunch?")
	dave.Must(200, "POST", fmt.Sprintf("/api/v1/conversations/%d/read", g), map[string]any{"seq": m["seq"]})
	w.waitPushes("carol-phone", 1)
	if n := len(w.ps.Pushes("bob-phone")); n != 0 {
		t.Errorf("bob, online, got %d pushes", n)
	}
	if n := len(w.ps.Pushes("dave-phone")); n != 0 {
		t.Errorf("dave, who read it elsewhere, got %d pushes", n)
	}
	_ = carol
}

// TestPushBurstFolds: messages that arrive while a push is pending fold
// into it; a group push names the group and the sender.
func TestPushBurstFolds(t *testing.T) {
	w := start(t, func(c *app.Config) { c.Push.Delay = time.Second })
	alice := w.person("alice")
	bob := w.person("bob", "bob-phone")
	g := w.group(alice, "Club", bob)
	for _, text := range []string{"one", "two", "three"} {
		send(alice, g, text)
	}
	p := w.waitPushes("bob-phone", 1)[0]
	if p.Payload["count"] != float64(3) || p.Payload["body"] != "3 new messages" || p.Payload["title"] != "alice in Club" {
		t.Errorf("folded push %s", p.Raw)
	}
	if p.Urgency != "normal" {
		t.Errorf("urgency %q for a group without mentions, want normal", p.Urgency)
	}
}

// TestPushLevels: mentions-only pushes only mentions (high urgency); muted
// and off push nothing; hidden text shows "New message".
func TestPushLevels(t *testing.T) {
	w := start(t)
	alice := w.person("alice")
	bob := w.person("bob", "bob-phone")
	carol := w.person("carol", "carol-phone")
	dave := w.person("dave", "dave-phone")
	erin := w.person("erin", "erin-phone")
	g := w.group(alice, "Club", bob, carol, dave, erin)
	settings := fmt.Sprintf("/api/v1/conversations/%d/settings", g)
	bob.Must(200, "PATCH", settings, map[string]any{"level": "mentions"})
	carol.Must(200, "PATCH", settings, map[string]any{"mute": "1h"})
	dave.Must(200, "PATCH", settings, map[string]any{"level": "off"})
	erin.Must(200, "PATCH", "/api/v1/me", map[string]any{"hide_notification_text": true})

	send(alice, g, "no mention here")
	e := w.waitPushes("erin-phone", 1)[0]
	if e.Payload["body"] != "New message" || e.Payload["title"] != "alice in Club" {
		t.Errorf("hidden preview: %s", e.Raw)
	}
	if strings.Contains(string(e.Raw), "mention here") {
		t.Errorf("the text is in a hidden preview: %s", e.Raw)
	}
	send(alice, g, "@bob @carol @dave look")
	w.waitPushes("erin-phone", 2)
	b := w.waitPushes("bob-phone", 1)[0]
	if b.Payload["mention"] != true || b.Urgency != "high" || b.Payload["body"] != "@bob @carol @dave look" {
		t.Errorf("mention push %s urgency %s", b.Raw, b.Urgency)
	}
	for _, s := range []string{"carol-phone", "dave-phone"} {
		if n := len(w.ps.Pushes(s)); n != 0 {
			t.Errorf("%s (muted or off) got %d pushes", s, n)
		}
	}
}

// TestPushGone: a 404 or 410 deletes the subscription.
func TestPushGone(t *testing.T) {
	w := start(t)
	alice := w.person("alice")
	bob := w.person("bob", "bob-phone")
	w.ps.Answer("bob-phone", pushtest.Answer{Status: 410})
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	send(alice, int64(d["id"].(float64)), "hi")
	servertest.WaitFor(t, 20*time.Second, func() bool {
		return len(bob.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any)) == 0
	}, "the subscription deleted after 410")
	if n := w.counter("parley_push_failed_total", "gone"); n != 1 {
		t.Errorf("failed{gone} = %v", n)
	}
}

// TestPushRetries: 429 waits for Retry-After, 500 is retried with backoff;
// the push then goes through once.
func TestPushRetries(t *testing.T) {
	w := start(t)
	alice := w.person("alice")
	w.person("bob", "bob-phone")
	w.ps.Answer("bob-phone", pushtest.Answer{Status: 429, RetryAfter: "1"}, pushtest.Answer{Status: 500})
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	sent := time.Now()
	send(alice, int64(d["id"].(float64)), "hi")
	p := w.waitPushes("bob-phone", 1)[0]
	if a := w.ps.Attempts("bob-phone"); a != 3 {
		t.Errorf("%d attempts, want 3 (429, 500, accepted)", a)
	}
	// delay + Retry-After 1 s + backoff 1 s
	if took := p.At.Sub(sent); took < testDelay+2*time.Second {
		t.Errorf("accepted %v after the send: sooner than Retry-After and backoff allow", took)
	}
	if w.counter("parley_push_failed_total", "rate_limited") != 1 || w.counter("parley_push_failed_total", "server_error") != 1 {
		t.Errorf("failed counters: rate_limited %v server_error %v", w.counter("parley_push_failed_total", "rate_limited"),
			w.counter("parley_push_failed_total", "server_error"))
	}
}

// TestPushSlowServiceDoesNotSlowSends: a push service that takes seconds to
// answer delays neither sending nor pushes to another push service.
func TestPushSlowServiceDoesNotSlowSends(t *testing.T) {
	slow := pushtest.Start(t, "")
	w := start(t, func(c *app.Config) {
		c.Push.AllowedHosts = append(c.Push.AllowedHosts, slow.Host)
		c.Push.PerHost = 2
	})
	slow.SetKey(w.srv.Node.Push.PublicKey())
	slow.SetDelay(10 * time.Second)
	alice := w.person("alice")
	var members []*servertest.API
	for i := range 6 {
		u := w.person(fmt.Sprintf("slow%d", i))
		u.Must(201, "POST", "/api/v1/push/subscriptions", slow.Subscribe(fmt.Sprintf("s%d", i)).JSON(""))
		members = append(members, u)
	}
	members = append(members, w.person("fast", "fast-phone"))
	g := w.group(alice, "Club", members...)
	send(alice, g, "first")
	// The slow service is now answering its first pushes.
	servertest.WaitFor(t, 20*time.Second, func() bool { return slow.MaxInFlight() >= 1 }, "pushes at the slow service")
	var worst time.Duration
	for i := range 10 {
		t0 := time.Now()
		send(alice, g, fmt.Sprintf("more %d", i))
		worst = max(worst, time.Since(t0))
	}
	if worst > 5*time.Second {
		t.Errorf("a send took %v while the push service was slow", worst)
	}
	servertest.WaitFor(t, 20*time.Second, func() bool { return len(w.ps.Pushes("fast-phone")) >= 1 }, "the fast service's push")
	if n := len(slow.Pushes("")); n >= 6 {
		t.Errorf("the fast service's push came after all %d of the slow one's", n)
	}
	if m := slow.MaxInFlight(); m > 2 {
		t.Errorf("%d pushes at once to one host, want at most --push-per-host 2", m)
	}
	servertest.WaitFor(t, 90*time.Second, func() bool { return len(slow.Pushes("")) >= 6 }, "the slow service's pushes")
}

// TestPushIncomingCall: a call to someone with no live connection pushes at
// once, high urgency, alive for the ring.
func TestPushIncomingCall(t *testing.T) {
	w := start(t, func(c *app.Config) { c.Calls = &calls.Config{}; c.Push.Delay = time.Minute })
	alice := w.person("alice")
	w.person("bob", "bob-phone")
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.srv.URL, "http")+"/api/v1/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + alice.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := wsjson.Write(ctx, c, map[string]any{"op": "call_invite", "id": "1", "conversation_id": d["id"],
		"media": "video", "sdp": "v=0"}); err != nil {
		t.Fatal(err)
	}
	for {
		var f map[string]any
		if err := wsjson.Read(ctx, c, &f); err != nil {
			t.Fatal(err)
		}
		if f["re"] == "1" {
			if f["ok"] != true {
				t.Fatalf("call_invite: %v", f)
			}
			break
		}
	}
	p := w.waitPushes("bob-phone", 1)[0]
	if p.Payload["type"] != "call" || p.Payload["title"] != "Incoming video call from alice" || p.Payload["media"] != "video" ||
		p.Payload["call_id"] == nil || p.Urgency != "high" || p.TTL != 45 {
		t.Fatalf("call push %s urgency %s TTL %d", p.Raw, p.Urgency, p.TTL)
	}
}

// TestPushSubscriptionExpires: a subscription unused for 60 days is deleted
// and counted.
func TestPushSubscriptionExpires(t *testing.T) {
	var skew atomic.Int64
	w := start(t, func(c *app.Config) {
		c.Push.ExpireEvery = 50 * time.Millisecond
		c.Push.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	bob := w.person("bob", "bob-phone")
	time.Sleep(200 * time.Millisecond)
	if n := len(bob.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any)); n != 1 {
		t.Fatalf("a fresh subscription expired: %d left", n)
	}
	skew.Store(int64(61 * 24 * time.Hour))
	servertest.WaitFor(t, 10*time.Second, func() bool {
		return len(bob.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any)) == 0
	}, "the subscription expired")
	if n := w.counter("parley_push_subscriptions_expired_total", ""); n != 1 {
		t.Errorf("expired counter %v", n)
	}
}
