package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Pinning: the figures this machine's peers are compared by were taken with
// the server on one core and the load generator on the other (taskset -c 0
// / taskset -c 1). PinSelf and StartPinned do that without taskset, and
// Affinity reads back what a process may run on, so every report says
// whether it was pinned. Pinning works on Linux only (pin_linux.go);
// elsewhere PinSelf and StartPinned say so and Affinity knows nothing.

// ParseCPUs parses a CPU list as taskset -c takes it: "0", "1,3", "0-3".
func ParseCPUs(list string) (CPUSet, error) {
	var set CPUSet
	for part := range strings.SplitSeq(list, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= runtime.NumCPU() {
			return set, fmt.Errorf("CPU list %q: %q is not a CPU or range of CPUs 0-%d", list, part, runtime.NumCPU()-1)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

// Affinity returns the CPUs process pid may run on, as /proc lists them
// ("0", "0-1"), or "" if unknown.
func Affinity(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// NoteTarget records on r how many server nodes there were, which CPUs
// the server (when its pid is known; the first node's) and the load
// generator could use, and whether that is a pinned measurement: both
// restricted, to CPUs they do not share.
func (r *Result) NoteTarget(t Target) {
	serverPID := t.PID
	all := "0"
	if n := runtime.NumCPU(); n > 1 {
		all = fmt.Sprintf("0-%d", n-1)
	}
	self := Affinity(os.Getpid())
	srv := ""
	if serverPID > 0 {
		srv = Affinity(serverPID)
	}
	pinned := "no"
	if srv != "" && self != "" && srv != all && self != all && disjoint(srv, self) {
		pinned = "yes"
	}
	r.Params = append([]Field{{"server nodes", max(1, len(t.Nodes)), ""}, {"pinned", pinned, ""},
		{"server CPUs", orDash(srv), ""}, {"bench CPUs", orDash(self), ""}}, r.Params...)
}

func orDash(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// disjoint reports whether two CPU lists share no CPU.
func disjoint(a, b string) bool {
	sa, err1 := ParseCPUs(a)
	sb, err2 := ParseCPUs(b)
	if err1 != nil || err2 != nil {
		return false
	}
	for c := range runtime.NumCPU() {
		if sa.IsSet(c) && sb.IsSet(c) {
			return false
		}
	}
	return true
}
