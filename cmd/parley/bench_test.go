package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// benchJSON runs 'parley bench' from the built binary and returns its
// JSON lines.
func benchJSON(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"bench"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("parley bench %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	var runs []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		runs = append(runs, m)
	}
	return runs
}

// TestBenchSpawn runs a tiny fanout against a spawned server: one JSON
// object per rate, complete, with the server's CPU and memory, and (on a
// machine with two CPUs or more) pinned: server and generator on CPUs of
// their own.
func TestBenchSpawn(t *testing.T) {
	args := []string{"fanout", "--spawn", "--members", "4", "--senders", "2", "--rate", "10,20",
		"--duration", "300ms", "--json"}
	pinned := runtime.NumCPU() >= 2
	if pinned {
		args = append(args, "--server-cpus", "0", "--bench-cpus", strconv.Itoa(runtime.NumCPU()-1))
	}
	runs := benchJSON(t, args...)
	if len(runs) != 2 {
		t.Fatalf("%d JSON objects, want 2", len(runs))
	}
	for _, r := range runs {
		if r["complete"] != true {
			t.Errorf("incomplete run: %v", r["problems"])
		}
		params := r["params"].(map[string]any)
		if pinned && (params["pinned"] != "yes" || params["server_CPUs"] != "0") {
			t.Errorf("pinned run reports pinned=%v, server CPUs %v", params["pinned"], params["server_CPUs"])
		}
		figs := r["figures"].(map[string]any)
		for _, k := range []string{"delivered", "expected", "latency_p99_ms", "server_CPU_pct", "server_RSS_MiB"} {
			if _, ok := figs[k]; !ok {
				t.Errorf("figures lack %s: %v", k, figs)
			}
		}
		if figs["delivered"] != figs["expected"] {
			t.Errorf("delivered %v, expected %v", figs["delivered"], figs["expected"])
		}
	}
}

// TestBenchURL runs the other scenarios, tiny, against a running server
// given by --url and --server-pid, and prints a table.
func TestBenchURL(t *testing.T) {
	addr := freeAddr(t)
	srv := startBinary(t, addr, t.TempDir())
	url, pid := "http://"+addr, strconv.Itoa(srv.Process.Pid)
	for _, args := range [][]string{
		{"pairs", "--pairs", "2", "--rate", "4", "--duration", "300ms"},
		{"connect", "--conns", "10", "--per-user", "5", "--settle", "10ms", "--hold", "10ms"},
		{"catchup", "--messages", "40", "--conversations", "2"},
		{"auth", "--users", "3"},
	} {
		runs := benchJSON(t, append(args, "--url", url, "--server-pid", pid, "--json")...)
		if len(runs) != 1 || runs[0]["complete"] != true {
			t.Errorf("%s: %v", args[0], runs)
		}
	}
	// And a table.
	var out bytes.Buffer
	err := run(context.Background(), []string{"parley", "bench", "auth", "--url", url, "--users", "2"}, func(string) string { return "" },
		nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"machine:", "auth", "sign-ups/s", "logins/s", "complete"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, out.String())
		}
	}
}

func TestBenchFlags(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"parley", "bench"},
		{"parley", "bench", "nosuch"},
		{"parley", "bench", "fanout"},                          // no target
		{"parley", "bench", "fanout", "--spawn", "--url", "x"}, // both
		{"parley", "bench", "fanout", "--spawn", "--rate", "fast"},
	} {
		if err := run(context.Background(), args, env, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
