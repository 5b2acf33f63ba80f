package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"parley/servertest"
)

// loginVia logs in through a balancer that wrote xff.
func loginVia(t *testing.T, srv *servertest.Server, login, password, xff string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", xff)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.Token
}

// TestForwardedForFromTheRight: behind a balancer on loopback (trusted by
// default) that appends the client's address, as nginx's
// $proxy_add_x_forwarded_for does, the client's address is the rightmost
// entry: what a client writes to its left changes neither the address its
// sessions show nor the login limits it meets.
func TestForwardedForFromTheRight(t *testing.T) {
	srv := servertest.Start(t)
	carol := servertest.SignUp(t, srv.URL, "carol")
	status, token := loginVia(t, srv, "carol", "password-carol", "203.0.113.66, 198.51.100.7")
	if status != 200 {
		t.Fatalf("login: %d", status)
	}
	carol.Token = token
	sessions := carol.Must(200, "GET", "/api/v1/sessions", nil).Body["sessions"].([]any)
	var ip string
	for _, s := range sessions {
		if s := s.(map[string]any); s["current"] == true {
			ip, _ = s["ip"].(string)
		}
	}
	if ip != "198.51.100.7" {
		t.Fatalf("session address %q, want 198.51.100.7 (the rightmost entry, appended by the balancer)", ip)
	}
	// Ten failures from one address, each with another made-up entry on
	// the left; the eleventh is refused all the same.
	for i := range 10 {
		if status, _ := loginVia(t, srv, "carol", "wrong-password", "203.0.113."+string(rune('0'+i))+", 198.51.100.8"); status != 401 {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	if status, _ := loginVia(t, srv, "carol", "wrong-password", "192.0.2.1, 198.51.100.8"); status != 429 {
		t.Fatalf("11th failure from 198.51.100.8 with a new left entry: %d, want 429", status)
	}
	// Another address is another client.
	if status, _ := loginVia(t, srv, "carol", "password-carol", "198.51.100.9"); status != 200 {
		t.Fatalf("login from another address: %d", status)
	}
}
