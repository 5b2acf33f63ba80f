package servertest

import (
	"testing"
	"time"
)

// WaitFor polls cond every few milliseconds until it holds and fails the
// test if it does not within timeout; format and args say what was
// awaited. It calls t.Fatalf, so only the test's goroutine may call it.
// Tests wait with it instead of sleeping.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
