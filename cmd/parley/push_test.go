package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestVAPID: parley vapid makes the key once and prints the same public key
// each time; --rotate prints a new one, which stays.
func TestVAPID(t *testing.T) {
	dir := t.TempDir()
	vapidKey := func(extra ...string) string {
		t.Helper()
		var out bytes.Buffer
		args := append([]string{"parley", "vapid", "--data-dir", dir}, extra...)
		if err := run(context.Background(), args, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
			t.Fatalf("parley vapid %v: %v", extra, err)
		}
		k := strings.TrimSpace(out.String())
		if len(k) != 87 {
			t.Fatalf("key %q: want 65 bytes base64url", k)
		}
		return k
	}
	first := vapidKey()
	if again := vapidKey(); again != first {
		t.Fatalf("key changed without --rotate: %s, %s", first, again)
	}
	rotated := vapidKey("--rotate")
	if rotated == first {
		t.Fatalf("--rotate kept the key")
	}
	if after := vapidKey(); after != rotated {
		t.Fatalf("after --rotate: %s, want %s", after, rotated)
	}
}

func TestPushFlags(t *testing.T) {
	for _, args := range [][]string{{"--push-delay", "10ms"}, {"--push-allowed-hosts", "no-port"}, {"--push-per-host", "0"}} {
		if _, _, _, err := serveConfig(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("serve %v: no error", args)
		}
	}
	cfg, _, _, err := serveConfig([]string{"--push-delay", "3s", "--push-allowed-hosts", "127.0.0.1:9999, push.example:443"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Push.Delay.String() != "3s" || len(cfg.Push.AllowedHosts) != 2 {
		t.Fatalf("push config %+v", cfg.Push)
	}
}
