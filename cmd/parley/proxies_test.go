package main

import (
	"io"
	"strings"
	"testing"
)

// TestTrustedProxiesFlag: loopback by default, CIDRs from the flag or the
// variable, nonsense refused, and the old $PARLEY_TRUST_PROXY refused with
// a pointer to its replacement rather than silently ignored.
func TestTrustedProxiesFlag(t *testing.T) {
	none := func(string) string { return "" }
	cfg, _, _, err := serveConfig(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[0].String() != "127.0.0.0/8" || cfg.TrustedProxies[1].String() != "::1/128" {
		t.Fatalf("default: %v", cfg.TrustedProxies)
	}
	env := map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.10"}
	cfg, _, _, err = serveConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[1].String() != "192.0.2.10/32" {
		t.Fatalf("from the variable: %v %v", cfg.TrustedProxies, err)
	}
	cfg, _, _, err = serveConfig([]string{"--trusted-proxies", ""}, none, io.Discard)
	if err != nil || cfg.TrustedProxies == nil || len(cfg.TrustedProxies) != 0 {
		t.Fatalf("empty: %#v %v; want an empty, non-nil list (trust none)", cfg.TrustedProxies, err)
	}
	if _, _, _, err := serveConfig([]string{"--trusted-proxies", "lan"}, none, io.Discard); err == nil || !strings.Contains(err.Error(), "trusted-proxies") {
		t.Fatalf("bad CIDR: %v", err)
	}
	old := func(k string) string {
		if k == "PARLEY_TRUST_PROXY" {
			return "true"
		}
		return ""
	}
	if _, _, _, err := serveConfig(nil, old, io.Discard); err == nil || !strings.Contains(err.Error(), "PARLEY_TRUSTED_PROXIES") {
		t.Fatalf("PARLEY_TRUST_PROXY: %v", err)
	}
}
