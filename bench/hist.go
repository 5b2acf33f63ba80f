package bench

import (
	"math/bits"
	"time"
)

// Hist is a latency histogram in microseconds with buckets about 3% wide
// (log-linear: exact below 64 µs, then 32 buckets per power of two). It is
// not safe for concurrent use: each goroutine keeps its own and they are
// merged at the end.
type Hist struct {
	counts [histBuckets]uint32
	n      int64
	sum    int64 // µs
	max    int64 // µs
}

const histBuckets = 64 + 40*32

func histIndex(us int64) int {
	if us < 64 {
		if us < 0 {
			return 0
		}
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 6 // ≥ 1; us>>e is in [32, 63]
	i := 64 + (e-1)*32 + int(us>>e) - 32
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// histUpper is the largest value of bucket i.
func histUpper(i int) int64 {
	if i < 64 {
		return int64(i)
	}
	e := (i-64)/32 + 1
	sub := int64((i-64)%32 + 32)
	return (sub+1)<<e - 1
}

// Add records one latency.
func (h *Hist) Add(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[histIndex(us)]++
	h.n++
	h.sum += us
	h.max = max(h.max, us)
}

// Merge adds o's samples to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count is the number of samples.
func (h *Hist) Count() int64 { return h.n }

// Max is the largest sample.
func (h *Hist) Max() time.Duration { return time.Duration(h.max) * time.Microsecond }

// Mean is the average sample.
func (h *Hist) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum/h.n) * time.Microsecond
}

// Quantile returns the value below which a fraction q of the samples lie
// (the upper edge of its bucket, never above the maximum).
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			return time.Duration(min(histUpper(i), h.max)) * time.Microsecond
		}
	}
	return h.Max()
}
