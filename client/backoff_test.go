package client

import (
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 10 * time.Second}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for i, w := range want {
		if got := b.ceiling(i); got != w*time.Millisecond {
			t.Errorf("ceiling(%d) = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := b.ceiling(1 << 20); got != b.max {
		t.Errorf("ceiling of a huge attempt = %v", got)
	}
	for attempt := 0; attempt < 12; attempt++ {
		var lo, hi time.Duration = b.max, 0
		for range 2000 {
			d := b.delay(attempt)
			if d < 0 || d > b.ceiling(attempt) {
				t.Fatalf("delay(%d) = %v outside [0, %v]", attempt, d, b.ceiling(attempt))
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter spreads over the whole range.
		if c := b.ceiling(attempt); lo > c/10 || hi < c*9/10 {
			t.Errorf("delay(%d) spread [%v, %v] of [0, %v]", attempt, lo, hi, c)
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := backoff{}.withDefaults()
	if b.min != 100*time.Millisecond || b.max != 10*time.Second {
		t.Fatalf("defaults %+v", b)
	}
	if b := (backoff{min: time.Minute}).withDefaults(); b.max != time.Minute {
		t.Fatalf("max below min: %+v", b)
	}
}
