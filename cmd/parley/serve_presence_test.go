package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestPresenceFlags: the presence timing comes from flags and PARLEY_*
// variables, with the documented defaults, and nonsense is refused.
func TestPresenceFlags(t *testing.T) {
	none := func(string) string { return "" }
	cfg, _, _, err := serveConfig(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Presence; p.OfflineGrace != 5*time.Second || p.Heartbeat != 10*time.Second || p.NodeTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", p)
	}
	env := map[string]string{"PARLEY_PRESENCE_HEARTBEAT": "1s", "PARLEY_PRESENCE_NODE_TIMEOUT": "4s"}
	cfg, _, _, err = serveConfig([]string{"--presence-grace", "0"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Presence; p.OfflineGrace >= 0 || p.Heartbeat != time.Second || p.NodeTimeout != 4*time.Second {
		t.Fatalf("from flags and env: %+v (a grace of 0 must mean at once: negative)", p)
	}
	for _, args := range [][]string{
		{"--presence-heartbeat", "0s"},
		{"--presence-heartbeat", "10s", "--presence-node-timeout", "15s"},
		{"--presence-grace", "-1s"},
	} {
		if _, _, _, err := serveConfig(args, none, io.Discard); err == nil || !strings.Contains(err.Error(), "presence") {
			t.Errorf("%v: err = %v", args, err)
		}
	}
}
