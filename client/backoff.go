package client

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: exponential growth from min to max
// with full jitter (a uniformly random delay between 0 and the current
// bound), so that many clients cut off together do not come back together.
type backoff struct {
	min, max time.Duration
}

func (b backoff) withDefaults() backoff {
	if b.min <= 0 {
		b.min = 100 * time.Millisecond
	}
	if b.max < b.min {
		b.max = max(b.min, 10*time.Second)
	}
	return b
}

// ceiling returns the bound of the attempt-th delay (attempt 0 first):
// min·2^attempt, at most max.
func (b backoff) ceiling(attempt int) time.Duration {
	d := b.min
	for i := 0; i < attempt && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// delay returns a random delay in [0, ceiling(attempt)].
func (b backoff) delay(attempt int) time.Duration {
	return rand.N(b.ceiling(attempt) + 1)
}
