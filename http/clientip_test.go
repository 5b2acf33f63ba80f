package http

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

// TestClientAddr: X-Forwarded-For is believed only from a trusted proxy,
// and then read from the right: the rightmost address that is not a
// trusted proxy is the client, never what the client wrote to its left.
func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("127.0.0.0/8, ::1, 10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	p := proxies(trusted)
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"192.0.2.7:5000", nil, "192.0.2.7"},
		{"192.0.2.7:5000", []string{"203.0.113.1"}, "192.0.2.7"}, // not from a proxy: ignored
		{"127.0.0.1:5000", nil, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		// nginx's $proxy_add_x_forwarded_for: what the client sent, then its address.
		{"127.0.0.1:5000", []string{"203.0.113.1, 198.51.100.7"}, "198.51.100.7"},
		{"127.0.0.1:5000", []string{"203.0.113.1", "198.51.100.7"}, "198.51.100.7"},
		// Two proxies of ours: skip both.
		{"127.0.0.1:5000", []string{"203.0.113.1, 198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		// A client pretending to be one of our proxies gains nothing.
		{"127.0.0.1:5000", []string{"127.0.0.1, 198.51.100.7"}, "198.51.100.7"},
		// Only proxies: the leftmost of them.
		{"127.0.0.1:5000", []string{"10.1.0.9, 10.1.0.8"}, "10.1.0.9"},
		// Garbage ends the walk at the last good hop.
		{"127.0.0.1:5000", []string{"198.51.100.7, nonsense, 10.1.0.8"}, "10.1.0.8"},
		{"127.0.0.1:5000", []string{"nonsense"}, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"127.0.0.1:5000", []string{"198.51.100.7:61000"}, "198.51.100.7"},
		{"[::1]:5000", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := p.clientAddr(r).String(); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}

	none, _ := ParseTrustedProxies("")
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	r.Header.Set("X-Forwarded-Proto", "https")
	if got := proxies(none).clientAddr(r).String(); got != "127.0.0.1" || proxies(none).https(r) {
		t.Errorf("no trusted proxies: client %s, https %v", got, proxies(none).https(r))
	}
	if !p.https(r) {
		t.Error("X-Forwarded-Proto: https from a trusted proxy not believed")
	}
	r.RemoteAddr = "192.0.2.7:5000"
	if p.https(r) {
		t.Error("X-Forwarded-Proto from a stranger believed")
	}
	r.TLS = &tls.ConnectionState{}
	if !p.https(r) {
		t.Error("TLS not seen")
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, lan"); err == nil {
		t.Error("a bad CIDR accepted")
	}
}
