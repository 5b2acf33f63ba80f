package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of a process's CPU time and memory.
type procSample struct {
	at  time.Time
	cpu time.Duration // user + system
	rss int64         // bytes
	hwm int64         // peak RSS, bytes
}

// readProc reads /proc/<pid>/stat and /proc/<pid>/status.
func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'. utime and stime are fields 14 and 15 (1-based), that
	// is 12 and 13 after the name.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 14 {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	s.cpu = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			s.rss = n << 10
		} else {
			s.hwm = n << 10
		}
	}
	return s, nil
}

// cpuPercent is the CPU used between two samples, in percent of one core.
func cpuPercent(a, b procSample) float64 {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.cpu-a.cpu) / float64(wall)
}

// procWatch samples a process every interval and keeps the peak RSS seen.
type procWatch struct {
	pid   int
	first procSample
	stop  chan struct{}
	done  chan struct{}
	peak  int64
}

// watchProc starts sampling pid; pid 0 watches nothing.
func watchProc(pid int, every time.Duration) *procWatch {
	w := &procWatch{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	if pid == 0 {
		close(w.done)
		return w
	}
	w.first, _ = readProc(pid)
	w.peak = w.first.rss
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				if s, err := readProc(pid); err == nil {
					w.peak = max(w.peak, s.rss)
				}
			}
		}
	}()
	return w
}

// procUsage is what a watch saw.
type procUsage struct {
	ok      bool
	cpuPct  float64
	rss     int64
	peakRSS int64
}

// end stops the watch and returns CPU use since the start, the RSS now and
// the peak RSS sampled.
func (w *procWatch) end() procUsage {
	if w.pid == 0 {
		return procUsage{}
	}
	close(w.stop)
	<-w.done
	last, err := readProc(w.pid)
	if err != nil || w.first.at.IsZero() {
		return procUsage{}
	}
	return procUsage{ok: true, cpuPct: cpuPercent(w.first, last), rss: last.rss, peakRSS: max(w.peak, last.rss)}
}

// machineSample is the machine's total busy and idle CPU time so far.
type machineSample struct {
	at         time.Time
	busy, idle time.Duration
}

// readMachine reads the first line of /proc/stat.
func readMachine() (machineSample, error) {
	m := machineSample{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return m, fmt.Errorf("unexpected /proc/stat")
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return m, fmt.Errorf("unexpected /proc/stat")
		}
		d := time.Duration(n) * time.Second / clockTicks
		if i == 3 || i == 4 { // idle, iowait
			m.idle += d
		} else if i < 8 { // user nice system irq softirq steal; guest time is already in user
			m.busy += d
		}
	}
	return m, nil
}

// machineWatch measures how busy the whole machine was, so a report can
// say how much CPU other processes took during a run.
type machineWatch struct{ first machineSample }

func watchMachine() *machineWatch {
	m, _ := readMachine()
	return &machineWatch{first: m}
}

// busyPercent is the machine's CPU use since the watch started, in percent
// of one core (all cores busy is 100 × cores).
func (w *machineWatch) busyPercent() (float64, bool) {
	last, err := readMachine()
	wall := last.at.Sub(w.first.at)
	if err != nil || w.first.at.IsZero() || wall <= 0 {
		return 0, false
	}
	return 100 * float64(last.busy-w.first.busy) / float64(wall), true
}

// WaitQuiet waits until the machine's CPU use stays below limit (percent of
// one core) for three seconds in a row, or until maxWait has passed, and
// returns how long it waited. Other work on the machine skews every figure;
// the reports say how much CPU others took during each run.
func WaitQuiet(limit float64, maxWait time.Duration, stop <-chan struct{}) time.Duration {
	start := time.Now()
	quiet := 0
	prev, err := readMachine()
	if err != nil {
		return 0
	}
	for time.Since(start) < maxWait && quiet < 3 {
		select {
		case <-stop:
			return time.Since(start)
		case <-time.After(time.Second):
		}
		cur, err := readMachine()
		if err != nil {
			return time.Since(start)
		}
		if busy := 100 * float64(cur.busy-prev.busy) / float64(cur.at.Sub(prev.at)); busy < limit {
			quiet++
		} else {
			quiet = 0
		}
		prev = cur
	}
	return time.Since(start)
}

// procWatches watches several processes (the nodes of one deployment).
type procWatches []*procWatch

func watchProcs(pids []int, every time.Duration) procWatches {
	var ws procWatches
	for _, pid := range pids {
		ws = append(ws, watchProc(pid, every))
	}
	return ws
}

// end adds up what every watch saw: CPU, RSS and peak RSS (the peaks may
// not have been at the same time). It is ok only if every process was
// watched.
func (ws procWatches) end() procUsage {
	sum := procUsage{ok: len(ws) > 0}
	for _, w := range ws {
		u := w.end()
		sum.ok = sum.ok && u.ok
		sum.cpuPct += u.cpuPct
		sum.rss += u.rss
		sum.peakRSS += u.peakRSS
	}
	if !sum.ok {
		return procUsage{}
	}
	return sum
}
