//go:build !linux

package bench

import (
	"errors"
	"math/bits"
	"os/exec"
)

// CPUSet is a set of CPUs: here, where pinning is not available, only
// what ParseCPUs needs.
type CPUSet struct{ bits [16]uint64 }

// Set adds cpu to the set.
func (s *CPUSet) Set(cpu int) {
	if cpu >= 0 && cpu < len(s.bits)*64 {
		s.bits[cpu/64] |= 1 << (cpu % 64)
	}
}

// IsSet reports whether cpu is in the set.
func (s *CPUSet) IsSet(cpu int) bool {
	return cpu >= 0 && cpu < len(s.bits)*64 && s.bits[cpu/64]&(1<<(cpu%64)) != 0
}

// Count is the number of CPUs in the set.
func (s *CPUSet) Count() int {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

var errNoPinning = errors.New("pinning to CPUs works on Linux only")

// PinSelf fails: pinning works on Linux only.
func PinSelf(cpus CPUSet) error { return errNoPinning }

// StartPinned fails: pinning works on Linux only.
func StartPinned(cmd *exec.Cmd, cpus CPUSet) error { return errNoPinning }
