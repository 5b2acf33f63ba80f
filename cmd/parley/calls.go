package main

import (
	"fmt"
	"time"

	"parley/app"
	"parley/calls"
)

// callFlags declares the call settings and returns what turns calls on with
// them. The TURN secret is a secret setting (flags.Secret).
func callFlags(f *flags) func(cfg *app.Config) error {
	stun := f.String("stun-urls", "PARLEY_STUN_URLS", "", "comma-separated STUN URLs for calls, e.g. stun:turn.example.com:3478")
	turn := f.String("turn-urls", "PARLEY_TURN_URLS", "", "comma-separated TURN URLs for calls, e.g. turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349 (needs --turn-secret)")
	secret := f.Secret("turn-secret", "PARLEY_TURN_SECRET", "secret shared with the TURN server (coturn static-auth-secret)")
	ttl := f.Duration("turn-ttl", "PARLEY_TURN_TTL", calls.DefaultTURNTTL, "lifetime of the TURN credentials handed to clients")
	ring := f.Duration("call-ring-timeout", "PARLEY_CALL_RING_TIMEOUT", calls.DefaultRingTimeout, "an unanswered call ends as missed after this long")
	return func(cfg *app.Config) error {
		if *ring < time.Second {
			return fmt.Errorf("--call-ring-timeout must be at least 1s")
		}
		c := calls.Config{RingTimeout: *ring, STUNURLs: splitList(*stun), TURNURLs: splitList(*turn),
			TURNSecret: *secret, TURNTTL: *ttl}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("calls: %w", err)
		}
		cfg.Calls = &c
		return nil
	}
}
