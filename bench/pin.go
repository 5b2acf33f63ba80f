package bench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Pinning: the figures this machine's peers are compared by were taken with
// the server on one core and the load generator on the other (taskset -c 0
// / taskset -c 1). PinSelf and StartPinned do that without taskset, and
// Affinity reads back what a process may run on, so every report says
// whether it was pinned.

// ParseCPUs parses a CPU list as taskset -c takes it: "0", "1,3", "0-3".
func ParseCPUs(list string) (unix.CPUSet, error) {
	var set unix.CPUSet
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

// PinSelf restricts every thread of this process to cpus. Threads the
// runtime starts later inherit it from the thread that creates them, so
// it repeats until it finds no thread left to pin.
func PinSelf(cpus unix.CPUSet) error {
	pinned := map[int]bool{}
	for {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || pinned[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &cpus); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pin thread %d: %w", tid, err)
			}
			pinned[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
}

// StartPinned starts cmd restricted to cpus: it forks from a thread whose
// affinity it sets to cpus for the fork (the child inherits it) and then
// gives back. The thread lives on: a parent-death signal
// (SysProcAttr.Pdeathsig) is tied to the thread that forked.
func StartPinned(cmd *exec.Cmd, cpus unix.CPUSet) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var own unix.CPUSet
	if err := unix.SchedGetaffinity(0, &own); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	if err := unix.SchedSetaffinity(0, &cpus); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &own); rerr != nil && err == nil {
		err = fmt.Errorf("unpin: %w", rerr)
	}
	return err
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
