package http_test

import (
	"fmt"
	"strings"
	"testing"

	"parley/app"
	"parley/push/pushtest"
	"parley/servertest"
)

// TestPushSubscriptions: the key, registering a device (again: updated, not
// doubled), listing and deleting, and what a subscription must look like.
func TestPushSubscriptions(t *testing.T) {
	ps := pushtest.Start(t, "")
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Push.AllowedHosts = []string{ps.Host} }))
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")

	if f := alice.Must(200, "GET", "/api/v1/features", nil).Obj(); f["push"] != true {
		t.Fatalf("features: %v, want push:true", f)
	}
	key := alice.Must(200, "GET", "/api/v1/push/key", nil).Obj()["public_key"].(string)
	if len(key) != 87 || strings.ContainsAny(key, "+/=") {
		t.Fatalf("public key %q: want 65 bytes base64url without padding", key)
	}
	if again := bob.Must(200, "GET", "/api/v1/push/key", nil).Obj()["public_key"]; again != key {
		t.Fatalf("key changed: %v", again)
	}

	sub := ps.Subscribe("alice-phone")
	s := alice.Must(201, "POST", "/api/v1/push/subscriptions", sub.JSON("Firefox on Android")).Obj("subscription")
	if s["endpoint"] != sub.Endpoint || s["label"] != "Firefox on Android" || s["id"] == nil || s["last_used"] == nil {
		t.Fatalf("subscription %v", s)
	}
	again := alice.Must(200, "POST", "/api/v1/push/subscriptions", sub.JSON("Phone")).Obj("subscription")
	if again["id"] != s["id"] || again["label"] != "Phone" {
		t.Fatalf("registered again: %v, want the same id with the new label", again)
	}
	body := sub.JSON("")
	body["expirationTime"] = nil // as toJSON() gives it
	alice.Must(201, "POST", "/api/v1/push/subscriptions", withEndpoint(body, ps.Subscribe("alice-laptop").Endpoint))
	list := alice.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any)
	if len(list) != 2 {
		t.Fatalf("alice's subscriptions: %v", list)
	}
	if l := bob.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any); len(l) != 0 {
		t.Fatalf("bob sees %v", l)
	}
	path := fmt.Sprintf("/api/v1/push/subscriptions/%v", s["id"])
	if c := bob.Do("DELETE", path, nil).Code(); c != "not_found" {
		t.Fatalf("bob deleting alice's subscription: %q, want not_found", c)
	}
	alice.Must(204, "DELETE", path, nil)
	if c := alice.Do("DELETE", path, nil).Code(); c != "not_found" {
		t.Fatalf("deleting twice: %q", c)
	}
	if l := alice.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any); len(l) != 1 {
		t.Fatalf("after delete: %v", l)
	}

	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no endpoint", withEndpoint(sub.JSON(""), ""), "endpoint"},
		{"bad p256dh", map[string]any{"endpoint": sub.Endpoint, "keys": map[string]any{"p256dh": "AAAA", "auth": sub.Auth}}, "keys"},
		{"p256dh off the curve", map[string]any{"endpoint": sub.Endpoint, "keys": map[string]any{"p256dh": "BA" + strings.Repeat("A", 85), "auth": sub.Auth}}, "keys"},
		{"bad auth", map[string]any{"endpoint": sub.Endpoint, "keys": map[string]any{"p256dh": sub.P256dh, "auth": "!!"}}, "keys"},
		{"long label", withLabel(sub.JSON(""), strings.Repeat("x", 65)), "label"},
		{"unknown field", map[string]any{"endpoint": sub.Endpoint, "keys": map[string]any{"p256dh": sub.P256dh, "auth": sub.Auth}, "x": 1}, "x"},
		{"endpoint too long", withEndpoint(sub.JSON(""), "https://fcm.googleapis.com/"+strings.Repeat("a", 2048)), "endpoint"},
	}
	for _, b := range bad {
		a := alice.Do("POST", "/api/v1/push/subscriptions", b.body)
		if a.Code() != "invalid" || a.Field() != b.field {
			t.Errorf("%s: %s field %q, want invalid %q", b.name, a.Code(), a.Field(), b.field)
		}
	}
}

// TestPushEndpointSafety: an endpoint must be https on a known push service
// or a UnifiedPush server; addresses that are private, loopback,
// link-local or metadata are refused unless the operator allowed the host.
func TestPushEndpointSafety(t *testing.T) {
	ps := pushtest.Start(t, "")
	srv := servertest.Start(t) // no allowed hosts
	alice := servertest.SignUp(t, srv.URL, "alice")
	sub := ps.Subscribe("x")
	port := ps.Host[strings.LastIndex(ps.Host, ":")+1:]
	refused := []string{
		sub.Endpoint, // http, loopback, not allowed
		"https://127.0.0.1:" + port + "/push/x",
		"https://localhost:" + port + "/push/x", // resolves to loopback: refused when dialed
		"https://10.1.2.3/push",
		"https://192.168.0.10/push",
		"https://169.254.169.254/latest/meta-data",
		"https://[::1]/push",
		"https://[fe80::1]/push",
		"https://[::ffff:127.0.0.1]/push",
		"https://100.100.100.200/push", // Alibaba's metadata (carrier-grade NAT range)
		"https://[fd00:ec2::254]/push", // AWS's IPv6 metadata
		"https://user:pw@fcm.googleapis.com/fcm/send/x",
		"ftp://fcm.googleapis.com/x",
		"fcm.googleapis.com/fcm/send/x",
	}
	for _, e := range refused {
		a := alice.Do("POST", "/api/v1/push/subscriptions", withEndpoint(sub.JSON(""), e))
		if a.Code() != "invalid" || a.Field() != "endpoint" {
			t.Errorf("%s: %s %q, want invalid endpoint", e, a.Code(), a.Field())
		}
	}
	if l := alice.Must(200, "GET", "/api/v1/push/subscriptions", nil).Obj()["subscriptions"].([]any); len(l) != 0 {
		t.Fatalf("refused endpoints were stored: %v", l)
	}
	if ps.Attempts("x") != 0 {
		t.Fatalf("the server reached a refused endpoint")
	}
	// Known push services are taken as they are (nothing is asked of them).
	for _, e := range []string{"https://fcm.googleapis.com/fcm/send/abc:def", "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
		"https://web.push.apple.com/QGuQyavXutnMH", "https://wns2-db5p.notify.windows.com/w/?token=BQYAAA"} {
		alice.Must(201, "POST", "/api/v1/push/subscriptions", withEndpoint(sub.JSON(""), e))
	}
}

func withEndpoint(b map[string]any, e string) map[string]any {
	b["endpoint"] = e
	return b
}

func withLabel(b map[string]any, l string) map[string]any {
	b["label"] = l
	return b
}
