package main

import "runtime"

// minProcs is the fewest Ps (runtime.GOMAXPROCS) 'parley serve' runs
// with. Go gives a process on one CPU one P. The SQLite store's one writer
// blocks in fsync at every commit; with one P, the connections' goroutines
// take the P meanwhile, and the writer, back from fsync, waits behind all
// of them in the run queue before it can start the next batch (a trace at
// 10,000 msg/s: runnable but not running 41 % of the time). With two Ps
// the writer finds the other one free, and the kernel shares the core
// between the two threads. Pinned to one core, 'parley bench pairs' at
// 4,000 msg/s went from p50 200 ms, p99 0.9 s to p50 2 ms, p99 76 ms
// (docs/performance.md).
const minProcs = 2

// ensureProcs raises GOMAXPROCS to minProcs unless $GOMAXPROCS is set (a
// choice the operator made) or it is that high already, and returns it
// before and after.
func ensureProcs(getenv func(string) string) (before, after int) {
	before = runtime.GOMAXPROCS(0)
	if getenv("GOMAXPROCS") != "" || before >= minProcs {
		return before, before
	}
	runtime.GOMAXPROCS(minProcs)
	return before, minProcs
}
