package calls_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/calls"
	"parley/servertest"
)

func TestICEServers(t *testing.T) {
	const secret = "s3cret-shared-with-coturn"
	srv := start(t, calls.Config{
		STUNURLs:   []string{"stun:turn.example.com:3478"},
		TURNURLs:   []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"},
		TURNSecret: secret,
		TURNTTL:    2 * time.Hour,
	})
	alice := signup(t, srv, "alice")

	if f := servertest.Must(t, srv.URL, "", "GET", "/api/v1/features", nil, 200).Body; f["calls"] != true {
		t.Fatalf("features: %v", f)
	}
	servertest.Must(t, srv.URL, "", "GET", "/api/v1/calls/ice-servers", nil, 401)

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/calls/ice-servers", nil)
	req.Header.Set("Authorization", "Bearer "+alice.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if strings.Contains(string(body), secret) {
		t.Fatalf("the TURN secret is in the answer: %s", body)
	}

	out := servertest.Must(t, srv.URL, alice.token, "GET", "/api/v1/calls/ice-servers", nil, 200).Body
	if num(out["ttl"]) != 7200 {
		t.Fatalf("ttl: %v", out["ttl"])
	}
	servers := out["ice_servers"].([]any)
	if len(servers) != 2 {
		t.Fatalf("ice_servers: %v", servers)
	}
	stun := servers[0].(map[string]any)
	if urls := stun["urls"].([]any); len(urls) != 1 || urls[0] != "stun:turn.example.com:3478" || stun["username"] != nil {
		t.Fatalf("stun entry: %v", stun)
	}
	turn := servers[1].(map[string]any)
	if urls := turn["urls"].([]any); len(urls) != 2 || urls[1] != "turns:turn.example.com:5349" {
		t.Fatalf("turn urls: %v", turn)
	}

	// username = "<expiry>:<user id>", credential = base64(HMAC-SHA1(secret, username)),
	// computed here independently of the server's code.
	username, credential := turn["username"].(string), turn["credential"].(string)
	exp, uid, ok := strings.Cut(username, ":")
	if !ok || uid != strconv.FormatInt(alice.id, 10) {
		t.Fatalf("username %q", username)
	}
	expiry, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		t.Fatalf("username %q: %v", username, err)
	}
	if d := time.Until(time.Unix(expiry, 0)); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
		t.Fatalf("credentials expire in %v, want 2h", d)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); credential != want {
		t.Fatalf("credential %q, want %q", credential, want)
	}
	// The exported helper agrees with a known vector of the same scheme.
	if u, c := calls.TURNCredentials("north", 42, time.Unix(1700000000, 0)); u != "1700000000:42" || c != hmacB64("north", "1700000000:42") {
		t.Fatalf("TURNCredentials: %q %q", u, c)
	}
}

func hmacB64(secret, msg string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestICEServersNone(t *testing.T) {
	srv := start(t, calls.Config{})
	alice := signup(t, srv, "alice")
	out := servertest.Must(t, srv.URL, alice.token, "GET", "/api/v1/calls/ice-servers", nil, 200).Body
	if servers := out["ice_servers"].([]any); len(servers) != 0 || num(out["ttl"]) != 3600 {
		t.Fatalf("answer: %v", out)
	}
}

func TestCallsOff(t *testing.T) {
	srv := servertest.Start(t)
	alice := signup(t, srv, "alice")
	if f := servertest.Must(t, srv.URL, "", "GET", "/api/v1/features", nil, 200).Body; f["calls"] != false {
		t.Fatalf("features: %v", f)
	}
	servertest.Must(t, srv.URL, alice.token, "GET", "/api/v1/calls/ice-servers", nil, 404)
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []calls.Config{
		{TURNURLs: []string{"turn:x:3478"}},
		{STUNURLs: []string{"http://x"}},
		{TURNURLs: []string{"stun:x"}, TURNSecret: "s"},
		{TURNTTL: time.Second},
		{RingTimeout: time.Hour},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", c)
		}
		if _, err := app.New(t.Context(), app.Config{DataDir: t.TempDir(), NoWeb: true, Calls: &c}, nil); err == nil {
			t.Errorf("a node started with calls %+v", c)
		}
	}
	srv := start(t, calls.Config{TURNURLs: []string{"turn:x:3478"}, TURNSecret: "s"})
	if f := servertest.Must(t, srv.URL, "", "GET", "/api/v1/features", nil, 200).Body; f["calls"] != true {
		t.Fatalf("features: %v", f)
	}
}
