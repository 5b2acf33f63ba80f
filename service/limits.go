package service

import (
	"context"
	"strconv"
	"time"

	"parley"
)

// Limits on what a stranger can make the server do (docs/protocol.md,
// "Limits"; docs/deploy.md, "Security"). Counters live in the store
// (parley.AttemptStore), so they hold across every node.
const (
	// DefaultSignupsPerHour is how many sign-ups one client address may
	// make per hour.
	DefaultSignupsPerHour = 20
	// HashWait is how long a request waits for a password-hashing slot
	// before it is answered 503 unavailable.
	HashWait = 5 * time.Second
	// JoinFailuresPerUser and JoinFailuresPerAddress limit joins with a
	// wrong code per user and per client address in JoinWindow.
	JoinFailuresPerUser    = 20
	JoinFailuresPerAddress = 100
	JoinWindow             = 10 * time.Minute
	// AddsPerHour is how many people one admin may add to groups per hour.
	AddsPerHour = 60
	// CallsPerCaller and CallsPerCallee limit call invites per caller and
	// per person called in CallWindow.
	CallsPerCaller = 20
	CallsPerCallee = 30
	CallWindow     = 10 * time.Minute
)

// Keys of the attempt counters.
func loginAddressKey(ip string) string { return "ip:" + ip }
func loginKey(ip, login string) string { return "login:" + ip + ":" + login }
func signupKey(ip string) string       { return "signup:" + ip }
func joinUserKey(userID int64) string  { return "join:user:" + strconv.FormatInt(userID, 10) }
func joinAddressKey(ip string) string  { return "join:ip:" + ip }
func addUserKey(userID int64) string   { return "add:user:" + strconv.FormatInt(userID, 10) }
func callerKey(userID int64) string    { return "call:from:" + strconv.FormatInt(userID, 10) }
func calleeKey(userID int64) string    { return "call:to:" + strconv.FormatInt(userID, 10) }
func passwordKey(userID int64) string  { return "password:" + strconv.FormatInt(userID, 10) }

// retryLater is an error that says when to try again: rate_limited, or
// unavailable when the server is too busy. The HTTP layer sends RetryAfter
// as the Retry-After header.
func retryLater(code, msg string, after time.Duration) error {
	return &parley.Error{Code: code, Message: msg, RetryAfter: after}
}

// acquireHash takes a hashing slot, waiting at most HashWait; the caller
// calls the returned function when its hash is done. Past the wait the
// answer is 503 unavailable with Retry-After.
func (s *Service) acquireHash(ctx context.Context) (func(), error) {
	release := func() { <-s.hashes }
	select {
	case s.hashes <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.hashes <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, retryLater(parley.EUNAVAILABLE, "The server is busy; try again in a moment.", time.Second)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// reserve counts one attempt against limits before the work it limits is
// done, so that concurrent requests cannot do more than the limits allow.
// A full limit is a rate_limited error that says to wait window.
func (s *Service) reserve(ctx context.Context, at time.Time, window time.Duration, msg string, limits ...parley.AttemptLimit) error {
	full, err := s.store.ReserveAttempt(ctx, at, limits)
	if err != nil {
		return err
	}
	if full >= 0 {
		return retryLater(parley.ERATELIMITED, msg, window)
	}
	return nil
}

// forget takes back a reservation that turned out not to count.
func (s *Service) forget(ctx context.Context, at time.Time, keys ...string) {
	if err := s.store.ForgetAttempt(context.WithoutCancel(ctx), keys, at); err != nil {
		s.log.Warn("forget attempt", "err", err)
	}
}

// ReserveCall counts a call invite from caller to callee, before it rings:
// CallsPerCaller per caller and CallsPerCallee per person called in
// CallWindow, on every node together.
func (s *Service) ReserveCall(ctx context.Context, caller, callee int64) error {
	now := s.Now()
	since := now.Add(-CallWindow)
	return s.reserve(ctx, now, CallWindow, "Too many calls; try again later.",
		parley.AttemptLimit{Key: callerKey(caller), Max: CallsPerCaller, Since: since},
		parley.AttemptLimit{Key: calleeKey(callee), Max: CallsPerCallee, Since: since})
}
