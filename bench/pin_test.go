package bench

import (
	"os"
	"runtime"
	"testing"
)

func TestParseCPUs(t *testing.T) {
	set, err := ParseCPUs("0")
	if err != nil || !set.IsSet(0) || set.Count() != 1 {
		t.Fatalf("ParseCPUs(0): %v, %v", set, err)
	}
	if runtime.NumCPU() >= 2 {
		set, err := ParseCPUs("0-1")
		if err != nil || set.Count() != 2 {
			t.Fatalf("ParseCPUs(0-1): %v, %v", set, err)
		}
	}
	for _, bad := range []string{"", "x", "1-0", "-1", "99999"} {
		if _, err := ParseCPUs(bad); err == nil {
			t.Errorf("ParseCPUs(%q) gave no error", bad)
		}
	}
}

func TestAffinityOfSelf(t *testing.T) {
	a := Affinity(os.Getpid())
	if a == "" {
		t.Skip("no Cpus_allowed_list in /proc/self/status")
	}
	if _, err := ParseCPUs(a); err != nil {
		t.Fatalf("own affinity %q: %v", a, err)
	}
}
