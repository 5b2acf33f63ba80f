package bench

import (
	"testing"
	"time"
)

func TestHistIndexMonotonic(t *testing.T) {
	prev := -1
	for us := int64(0); us < 1<<22; us += 1 + us/97 {
		i := histIndex(us)
		if i < prev {
			t.Fatalf("index(%d) = %d < index of a smaller value %d", us, i, prev)
		}
		if up := histUpper(i); up < us {
			t.Fatalf("upper(%d) = %d, below %d", i, up, us)
		}
		if i > 0 {
			if lo := histUpper(i - 1); lo >= us {
				t.Fatalf("value %d should be in bucket %d, whose predecessor ends at %d", us, i, lo)
			}
		}
		prev = i
	}
}

func TestHistQuantiles(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Add(time.Duration(i) * time.Millisecond)
	}
	check := func(q float64, want time.Duration) {
		t.Helper()
		got := h.Quantile(q)
		if got < want || float64(got) > float64(want)*1.04 {
			t.Errorf("q%.2f = %v, want %v within 4%%", q, got, want)
		}
	}
	check(0.5, 500*time.Millisecond)
	check(0.9, 900*time.Millisecond)
	check(0.99, 990*time.Millisecond)
	if h.Max() != time.Second || h.Quantile(1) != time.Second {
		t.Errorf("max %v, q1 %v; want 1s", h.Max(), h.Quantile(1))
	}
	if h.Count() != 1000 {
		t.Errorf("count %d", h.Count())
	}

	var a, b Hist
	a.Add(time.Millisecond)
	b.Add(3 * time.Millisecond)
	a.Merge(&b)
	if a.Count() != 2 || a.Max() != 3*time.Millisecond || a.Mean() != 2*time.Millisecond {
		t.Errorf("merged: count %d max %v mean %v", a.Count(), a.Max(), a.Mean())
	}
	var empty Hist
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram should report zeros")
	}
}
