// Package testwait is the one way tests wait for a condition: poll it
// with a deadline. It imports nothing of Parley, so every package's tests
// can use it (servertest.WaitFor is the same wait).
package testwait

import (
	"testing"
	"time"
)

// For polls cond every few milliseconds until it holds and fails the test
// if it does not within timeout; format and args say what was awaited. It
// calls t.Fatalf, so only the test's goroutine may call it.
func For(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
