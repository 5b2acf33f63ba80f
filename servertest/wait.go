package servertest

import (
	"testing"
	"time"

	"parley/testwait"
)

// WaitFor polls cond until it holds and fails the test if it does not
// within timeout (testwait.For, for packages that cannot import
// servertest). Tests wait with it instead of sleeping.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	testwait.For(t, timeout, cond, format, args...)
}
