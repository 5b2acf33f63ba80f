package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"parley/servertest"
)

// The call flags and PARLEY_* variables reach the node: the ICE servers it
// hands out carry TURN credentials made with the configured secret, which
// never shows, not even in -help.
func TestCallFlags(t *testing.T) {
	const secret = "env-only-turn-secret"
	env := map[string]string{
		"PARLEY_TURN_URLS":   "turn:turn.example.com:3478",
		"PARLEY_TURN_SECRET": secret,
		"PARLEY_TURN_TTL":    "10m",
	}
	getenv := func(k string) string { return env[k] }

	var help bytes.Buffer
	if _, _, _, err := serveConfig([]string{"-h"}, getenv, &help); err == nil {
		t.Fatal("-h did not stop")
	}
	if !strings.Contains(help.String(), "-turn-secret") || strings.Contains(help.String(), secret) {
		t.Fatalf("help shows the secret or lacks the flag:\n%s", help.String())
	}

	for _, args := range [][]string{
		{"--call-ring-timeout", "0s"},
		{"--turn-urls", "http://x"},
		{"--turn-ttl", "1s"},
	} {
		if _, _, _, err := serveConfig(args, getenv, &bytes.Buffer{}); err == nil {
			t.Fatalf("%v accepted", args)
		}
	}
	noSecret := func(k string) string {
		if k == "PARLEY_TURN_SECRET" {
			return ""
		}
		return env[k]
	}
	if _, _, _, err := serveConfig(nil, noSecret, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("TURN without a secret: %v", err)
	}

	cfg, _, _, err := serveConfig([]string{"--stun-urls", "stun:stun.example.com:3478", "--data-dir", t.TempDir()}, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Calls == nil {
		t.Fatalf("calls not configured: %+v", cfg)
	}
	cfg.NoWeb = true
	cfg.Service.Hash.Memory, cfg.Service.Hash.Time = 8*1024, 1
	srv := servertest.StartConfig(t, cfg)
	alice := servertest.SignUp(t, srv.URL, "alice")
	ice := alice.Must(200, "GET", "/api/v1/calls/ice-servers", nil)
	var out struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"ice_servers"`
		TTL int `json:"ttl"`
	}
	if err := json.Unmarshal(ice.Raw, &out); err != nil || len(out.ICEServers) != 2 || out.TTL != 600 {
		t.Fatalf("ice servers: %v %+v", err, out)
	}
	if out.ICEServers[0].URLs[0] != "stun:stun.example.com:3478" || out.ICEServers[1].URLs[0] != "turn:turn.example.com:3478" {
		t.Fatalf("urls: %+v", out)
	}
	if features := alice.Must(200, "GET", "/api/v1/features", nil).Body; features["calls"] != true {
		t.Fatalf("features: %v", features)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(out.ICEServers[1].Username))
	if out.ICEServers[1].Credential != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("credential not made with the configured secret: %+v", out.ICEServers[1])
	}
}
