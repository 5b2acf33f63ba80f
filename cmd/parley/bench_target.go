package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	pbench "parley/bench"
)

// benchCommon are the flags every scenario has: where the server is and
// how to report.
type benchCommon struct {
	url, serverFlags, pprof *string
	pids                    *string
	metricsURL, metricsTok  *string
	cpuProfile              *string
	serverCPUs, benchCPUs   *string
	spawn, json, keep, pin  *bool
	concurrency             *int
	hashMemory, hashTime    *int
	waitIdle                *time.Duration
	serverArgs              func() []string // scenario-specific serve flags
	notes                   []string
}

func addCommonFlags(f *flags, scenario string) *benchCommon {
	// Sign-ups for thousands of users would take minutes at the server's
	// default hashing cost; auth measures exactly that cost, so it keeps
	// the default.
	mem, tm, conc := 8*1024, 1, 32
	if scenario == "auth" {
		mem, tm, conc = 19*1024, 2, 2*runtime.NumCPU()
	}
	return &benchCommon{
		url:         f.String("url", "PARLEY_BENCH_URL", "", "base URL of a running Parley server (or use --spawn); several nodes of one deployment: their URLs, comma-separated"),
		spawn:       f.Bool("spawn", "PARLEY_BENCH_SPAWN", false, "start 'parley serve' as a child process on a free loopback port, SQLite in a temporary folder"),
		pids:        f.String("server-pid", "PARLEY_BENCH_SERVER_PID", "", "process id of the --url server, to report its CPU and memory; with several --url nodes, their ids in the same order"),
		metricsURL:  f.String("metrics-url", "PARLEY_BENCH_METRICS_URL", "", "the --url server's metrics (its --metrics-addr), e.g. http://127.0.0.1:9090/metrics (default: /metrics at --url, which needs --metrics-token)"),
		metricsTok:  f.Secret("metrics-token", "PARLEY_BENCH_METRICS_TOKEN", "the --url server's --metrics-token"),
		json:        f.Bool("json", "PARLEY_BENCH_JSON", false, "print one JSON object per run instead of a table"),
		concurrency: f.Int("concurrency", "PARLEY_BENCH_CONCURRENCY", conc, "REST calls in flight while setting up (sign-ups, logins, joins); for auth, the requests measured"),
		hashMemory:  f.Int("hash-memory", "PARLEY_BENCH_HASH_MEMORY", mem, "--spawn: the server's argon2id memory in KiB"),
		hashTime:    f.Int("hash-time", "PARLEY_BENCH_HASH_TIME", tm, "--spawn: the server's argon2id iterations"),
		serverFlags: f.String("server-flags", "PARLEY_BENCH_SERVER_FLAGS", "", "--spawn: more flags for 'parley serve', space-separated"),
		pprof:       f.String("pprof", "PARLEY_BENCH_PPROF", "", "--spawn: serve the server's profiler on this address (e.g. 127.0.0.1:6060)"),
		keep:        f.Bool("keep", "PARLEY_BENCH_KEEP", false, "--spawn: keep the server's temporary folder (database and log)"),
		waitIdle:    f.Duration("wait-idle", "PARLEY_BENCH_WAIT_IDLE", 0, "before each measured run, wait up to this long for the machine to be quiet (0: don't wait)"),
		cpuProfile:  f.String("cpuprofile", "PARLEY_BENCH_CPUPROFILE", "", "write the load generator's own CPU profile to this file"),
		pin:         f.Bool("pin", "PARLEY_BENCH_PIN", false, "pinned measurement: --server-cpus 0 --bench-cpus 1 unless those are given"),
		serverCPUs:  f.String("server-cpus", "PARLEY_BENCH_SERVER_CPUS", "", "--spawn: run the server on these CPUs only, as taskset -c takes them (e.g. 0)"),
		benchCPUs:   f.String("bench-cpus", "PARLEY_BENCH_BENCH_CPUS", "", "run the load generator on these CPUs only (e.g. 1)"),
	}
}

// cpus returns the CPU sets the flags ask for the server and the bench
// (nil: not restricted).
func (c *benchCommon) cpus() (server, self *pbench.CPUSet, err error) {
	srv, own := *c.serverCPUs, *c.benchCPUs
	if *c.pin {
		if srv == "" && *c.spawn {
			srv = "0"
		}
		if own == "" {
			own = "1"
		}
	}
	if srv != "" {
		if !*c.spawn {
			return nil, nil, fmt.Errorf("--server-cpus needs --spawn; pin a --url server with taskset -c when starting it")
		}
		set, err := pbench.ParseCPUs(srv)
		if err != nil {
			return nil, nil, fmt.Errorf("--server-cpus: %w", err)
		}
		server = &set
	}
	if own != "" {
		set, err := pbench.ParseCPUs(own)
		if err != nil {
			return nil, nil, fmt.Errorf("--bench-cpus: %w", err)
		}
		self = &set
	}
	return server, self, nil
}

// nodes reads --url and --server-pid, each a comma-separated list when the
// server is several nodes.
func (c *benchCommon) nodes(t *pbench.Target) error {
	urls := splitList(*c.url)
	var pids []int
	for _, p := range splitList(*c.pids) {
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return fmt.Errorf("--server-pid: %q is not a process id", p)
		}
		pids = append(pids, pid)
	}
	if len(pids) > 0 && len(pids) != len(urls) {
		return fmt.Errorf("--server-pid: give one process id per --url node (%d for %d)", len(pids), len(urls))
	}
	if len(urls) == 0 {
		return nil
	}
	t.URL = urls[0]
	if len(pids) > 0 {
		t.PID = pids[0]
	}
	if len(urls) > 1 {
		for i, u := range urls {
			n := pbench.Node{URL: u}
			if len(pids) > 0 {
				n.PID = pids[i]
			}
			t.Nodes = append(t.Nodes, n)
		}
	}
	return nil
}

// target starts or names the server. stop ends a spawned server.
func (c *benchCommon) target(ctx context.Context, stderr io.Writer) (pbench.Target, func(), error) {
	t := pbench.Target{Concurrency: *c.concurrency, Log: stderr, WaitIdle: *c.waitIdle,
		MetricsURL: *c.metricsURL, MetricsToken: *c.metricsTok}
	if err := c.nodes(&t); err != nil {
		return t, nil, err
	}
	serverCPUs, benchCPUs, err := c.cpus()
	if err != nil {
		return t, nil, err
	}
	if benchCPUs != nil {
		if err := pbench.PinSelf(*benchCPUs); err != nil {
			return t, nil, err
		}
	}
	switch {
	case *c.spawn && *c.url != "":
		return t, nil, fmt.Errorf("give --url or --spawn, not both")
	case !*c.spawn && *c.url == "":
		return t, nil, fmt.Errorf("give --url of a running server or --spawn")
	case !*c.spawn:
		switch {
		case len(t.Nodes) > 1:
			c.notes = append(c.notes, fmt.Sprintf("%d nodes at %s, pids %s; connections and users spread over them in turn", len(t.Nodes), *c.url, *c.pids))
		case t.PID == 0:
			c.notes = append(c.notes, "server at "+t.URL+" (no --server-pid: no CPU or memory figures)")
		default:
			c.notes = append(c.notes, fmt.Sprintf("server at %s, pid %d", t.URL, t.PID))
		}
		return t, func() {}, nil
	}
	args := []string{"--hash-memory", strconv.Itoa(*c.hashMemory), "--hash-time", strconv.Itoa(*c.hashTime)}
	if c.serverArgs != nil {
		args = append(args, c.serverArgs()...)
	}
	if *c.pprof != "" {
		args = append(args, "--pprof", *c.pprof)
	}
	args = append(args, strings.Fields(*c.serverFlags)...)
	s, err := spawnServer(ctx, args, serverCPUs, stderr)
	if err != nil {
		return t, nil, err
	}
	t.URL, t.PID, t.MetricsURL, t.MetricsToken = s.url, s.cmd.Process.Pid, "", s.metricsToken
	t.Hash = fmt.Sprintf("argon2id m=%d KiB t=%d p=1", *c.hashMemory, *c.hashTime)
	c.notes = append(c.notes, fmt.Sprintf("server: spawned 'parley serve %s' (pid %d), SQLite in %s", strings.Join(args, " "), t.PID, s.dir))
	return t, func() { s.stop(*c.keep, stderr) }, nil
}

// spawned is a 'parley serve' child process.
type spawned struct {
	cmd          *exec.Cmd
	url          string
	dir          string
	wait         chan error
	metricsToken string // for its GET /metrics
}

// spawnServer starts this binary's 'serve' on a free loopback port with a
// fresh data folder and waits until it answers /healthz.
// With cpus set, it runs only on those CPUs.
func spawnServer(ctx context.Context, args []string, cpus *pbench.CPUSet, stderr io.Writer) (*spawned, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	full := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--log-level", "warn", "--ai", "off", "--signup-rate", "1000000000"}, args...)
	cmd := exec.Command(exe, full...)
	// The child takes its settings from flags only, but for the token that
	// lets the bench read its metrics.
	token := rand.Text()
	cmd.Env = []string{"PARLEY_METRICS_TOKEN=" + token}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stopWithParent(cmd) // if the bench dies, so does its server (Linux)
	if cpus != nil {
		err = pbench.StartPinned(cmd, *cpus)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn server: %w", err)
	}
	s := &spawned{cmd: cmd, dir: dir, wait: make(chan error, 1), metricsToken: token}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Parley is running at "); ok {
				select {
				case urls <- strings.Fields(rest)[0]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { s.wait <- cmd.Wait() }()
	fail := func(err error) (*spawned, error) {
		s.stop(true, io.Discard)
		return nil, fmt.Errorf("spawn server: %w (log: %s)", err, filepath.Join(dir, "server.log"))
	}
	select {
	case s.url = <-urls:
	case err := <-s.wait:
		s.wait <- err
		return fail(fmt.Errorf("server exited: %v", err))
	case <-time.After(60 * time.Second):
		return fail(fmt.Errorf("server did not start within 60 s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("server at %s not healthy", s.url))
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(stderr, "bench: spawned server at %s (pid %d)\n", s.url, cmd.Process.Pid)
	return s, nil
}

// stop ends the server (SIGTERM, then SIGKILL after 20 s) and removes its
// folder unless keep.
func (s *spawned) stop(keep bool, stderr io.Writer) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.wait:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.wait
	}
	if keep {
		fmt.Fprintf(stderr, "bench: server folder kept: %s\n", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}
