package main

import (
	"runtime"
	"testing"
)

// TestEnsureProcs: one P becomes minProcs, unless $GOMAXPROCS says
// otherwise; more are left alone.
func TestEnsureProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	none := func(string) string { return "" }
	set := func(k string) string {
		if k == "GOMAXPROCS" {
			return "1"
		}
		return ""
	}
	runtime.GOMAXPROCS(1)
	if before, after := ensureProcs(set); before != 1 || after != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Errorf("with $GOMAXPROCS=1: %d to %d, now %d", before, after, runtime.GOMAXPROCS(0))
	}
	if before, after := ensureProcs(none); before != 1 || after != minProcs || runtime.GOMAXPROCS(0) != minProcs {
		t.Errorf("from one P: %d to %d, now %d", before, after, runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(minProcs + 1)
	if before, after := ensureProcs(none); before != minProcs+1 || after != minProcs+1 || runtime.GOMAXPROCS(0) != minProcs+1 {
		t.Errorf("from %d Ps: %d to %d, now %d", minProcs+1, before, after, runtime.GOMAXPROCS(0))
	}
}
