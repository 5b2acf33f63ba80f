package bench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// CPUSet is a set of CPUs (sched_setaffinity's).
type CPUSet = unix.CPUSet

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
