package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	pbench "parley/bench"
)

const benchUsage = `Usage: parley bench <scenario> [flags]

Scenarios (each bounded in time and count):
  fanout    one group, every member connected, senders at a fixed total rate
  pairs     many direct conversations, both people sending
  connect   many idle authenticated WebSockets; server memory per connection
  catchup   a client misses many messages, reconnects and syncs
  auth      sign-ups and logins per second
  upload    uploads per second and MB/s by file size, and thumbnail time
  push      a group with every member offline: pushes per second, store to push request
  search    seeds a store directly (1,000,000 messages by default) and times
            searches in process: common and rare words, CJK, phrases

Target: --url of a running server (add --server-pid for its CPU and memory),
or --spawn to start 'parley serve' as a child on a free loopback port with
SQLite in a temporary folder. Run 'parley bench <scenario> -h' for flags.
`

// bench is the load generator (package bench holds the scenarios).
func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, benchUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return fmt.Errorf("bench: name a scenario")
	}
	scenario, args := args[0], args[1:]
	if scenario == "search" {
		return benchSearch(ctx, args, getenv, stdout, stderr)
	}
	f := newFlags("bench "+scenario, getenv, stderr)
	c := addCommonFlags(f, scenario)
	var (
		run   func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error)
		rates []float64
		check = func() error { return nil } // flags, before any server starts
	)
	switch scenario {
	case "fanout":
		members := f.Int("members", "PARLEY_BENCH_MEMBERS", 1000, "group members, each with one connection")
		senders := f.Int("senders", "PARLEY_BENCH_SENDERS", 0, "sending connections among the members (0: rate/25, at least 10)")
		rateList := f.String("rate", "PARLEY_BENCH_RATE", "500", "total messages per second; a comma-separated list makes one run per rate")
		dur := f.Duration("duration", "PARLEY_BENCH_DURATION", 20*time.Second, "sending time of each run")
		drain := f.Duration("drain", "PARLEY_BENCH_DRAIN", 15*time.Second, "longest wait for replies and deliveries after sending")
		size := f.Int("size", "PARLEY_BENCH_SIZE", 100, "characters of message text")
		c.serverArgs = func() []string { return []string{"--max-group-members", strconv.Itoa(max(*members, 2))} }
		check = func() (err error) { rates, err = parseRates(*rateList); return err }
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			return pbench.Fanout(ctx, t, pbench.FanoutConfig{Members: *members, Senders: *senders, Rates: rates,
				Duration: *dur, Drain: *drain, Size: *size})
		}
	case "pairs":
		pairs := f.Int("pairs", "PARLEY_BENCH_PAIRS", 1000, "direct conversations")
		rateList := f.String("rate", "PARLEY_BENCH_RATE", "5", "messages per second of each person; a comma-separated list makes one run per rate")
		dur := f.Duration("duration", "PARLEY_BENCH_DURATION", 20*time.Second, "sending time of each run")
		drain := f.Duration("drain", "PARLEY_BENCH_DRAIN", 15*time.Second, "longest wait for replies and deliveries after sending")
		size := f.Int("size", "PARLEY_BENCH_SIZE", 100, "characters of message text")
		check = func() (err error) { rates, err = parseRates(*rateList); return err }
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			return pbench.Pairs(ctx, t, pbench.PairsConfig{Pairs: *pairs, Rates: rates, Duration: *dur, Drain: *drain, Size: *size})
		}
	case "connect":
		conns := f.Int("conns", "PARLEY_BENCH_CONNS", 19000, "idle connections")
		perUser := f.Int("per-user", "PARLEY_BENCH_PER_USER", 19, "connections per user (the server allows --max-conns-per-user)")
		dialers := f.Int("dial-concurrency", "PARLEY_BENCH_DIAL_CONCURRENCY", 100, "handshakes in flight")
		settle := f.Duration("settle", "PARLEY_BENCH_SETTLE", 5*time.Second, "wait after connecting before measuring memory")
		hold := f.Duration("hold", "PARLEY_BENCH_HOLD", 10*time.Second, "time the connections stay open after settling")
		c.serverArgs = func() []string { return []string{"--max-conns-per-user", strconv.Itoa(max(*perUser, 1))} }
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			if limit, err := raiseFileLimit(); err == nil && limit > 0 && uint64(*conns)+200 > limit {
				return nil, fmt.Errorf("--conns %d needs more open files than this process may have (%d)", *conns, limit)
			}
			r, err := pbench.Connect(ctx, t, pbench.ConnectConfig{Conns: *conns, PerUser: *perUser, Concurrency: *dialers,
				Settle: *settle, Hold: *hold})
			return one(r, err)
		}
	case "catchup":
		msgs := f.Int("messages", "PARLEY_BENCH_MESSAGES", 10000, "messages the client misses")
		convs := f.Int("conversations", "PARLEY_BENCH_CONVERSATIONS", 50, "direct conversations they are spread over")
		size := f.Int("size", "PARLEY_BENCH_SIZE", 100, "characters of message text")
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			r, err := pbench.Catchup(ctx, t, pbench.CatchupConfig{Messages: *msgs, Conversations: *convs, Size: *size})
			return one(r, err)
		}
	case "auth":
		users := f.Int("users", "PARLEY_BENCH_USERS", 200, "accounts created, then logged into")
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			r, err := pbench.Auth(ctx, t, pbench.AuthConfig{Users: *users, Concurrency: *c.concurrency})
			return one(r, err)
		}
	case "upload":
		sizeList := f.String("sizes", "PARLEY_BENCH_SIZES", "100KiB,10MiB", "file sizes, one run each (comma-separated sizes like 100KiB)")
		count := f.Int("uploads", "PARLEY_BENCH_UPLOADS", 0, "uploads of each size (0: 200 up to 1 MiB, 40 above)")
		inFlight := f.Int("in-flight", "PARLEY_BENCH_IN_FLIGHT", 4, "uploads in flight, one user each")
		photos := f.Int("photos", "PARLEY_BENCH_PHOTOS", 10, "photos uploaded one at a time to time their thumbnails")
		var sizes []int64
		c.serverArgs = func() []string {
			return []string{"--upload-rate", "1000000", "--upload-quota", "1TiB", "--max-upload", "1GiB"}
		}
		check = func() error {
			for _, p := range splitList(*sizeList) {
				var v sizeValue
				if err := v.Set(p); err != nil || v <= 0 {
					return fmt.Errorf("--sizes: %q is not a size", p)
				}
				sizes = append(sizes, int64(v))
			}
			if len(sizes) == 0 || *inFlight < 1 || *count < 0 || *photos < 0 {
				return fmt.Errorf("--sizes needs a size, --in-flight at least 1, --uploads and --photos not negative")
			}
			return nil
		}
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			return pbench.Upload(ctx, t, pbench.UploadConfig{Sizes: sizes, Count: *count, Concurrency: *inFlight, Photos: *photos})
		}
	case "push":
		members := f.Int("members", "PARLEY_BENCH_MEMBERS", 1000, "group members, all offline, each with one push subscription")
		bursts := f.Int("bursts", "PARLEY_BENCH_BURSTS", 5, "messages sent, each after the pushes of the one before arrived")
		delay := f.Duration("push-delay", "PARLEY_BENCH_PUSH_DELAY", time.Second, "--spawn: the server's --push-delay (with --url: give the server's)")
		sinkAddr := f.String("sink", "PARLEY_BENCH_SINK", "127.0.0.1:0", "address of the bench's push service; a --url server must list it in --push-allowed-hosts")
		var sink net.Listener
		c.serverArgs = func() []string {
			return []string{"--max-group-members", strconv.Itoa(max(*members, 2)), "--push-delay", delay.String(),
				"--push-allowed-hosts", sink.Addr().String()}
		}
		check = func() (err error) {
			if *members < 2 || *bursts < 1 || *delay < 100*time.Millisecond {
				return fmt.Errorf("--members at least 2, --bursts at least 1, --push-delay at least 100ms")
			}
			sink, err = net.Listen("tcp", *sinkAddr)
			return err
		}
		run = func(ctx context.Context, t pbench.Target) ([]*pbench.Result, error) {
			r, err := pbench.Push(ctx, t, pbench.PushConfig{Members: *members, Bursts: *bursts, Delay: *delay, Sink: sink})
			if r == nil {
				return nil, err
			}
			return []*pbench.Result{r}, err
		}
	default:
		fmt.Fprint(stderr, benchUsage)
		return fmt.Errorf("bench: unknown scenario %q", scenario)
	}
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("bench %s: unexpected arguments %q", scenario, f.Args())
	}
	if err := check(); err != nil {
		return fmt.Errorf("bench %s: %w", scenario, err)
	}
	if _, err := raiseFileLimit(); err != nil {
		fmt.Fprintln(stderr, "bench: could not raise the open file limit:", err)
	}

	t, stop, err := c.target(ctx, stderr)
	if err != nil {
		return err
	}
	defer stop()
	if *c.cpuProfile != "" {
		pf, err := os.Create(*c.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	results, err := run(ctx, t)
	for _, r := range results {
		r.NoteTarget(t)
		r.Notes = append(r.Notes, c.notes...)
	}
	if perr := printResults(stdout, results, *c.json); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("bench %s: %w", scenario, err)
	}
	for _, r := range results {
		if !r.Complete {
			return fmt.Errorf("bench %s: a run was incomplete", scenario)
		}
	}
	return nil
}

func one(r *pbench.Result, err error) ([]*pbench.Result, error) {
	if r == nil {
		return nil, err
	}
	return []*pbench.Result{r}, err
}

func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("--rate: %q is not a positive number", p)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--rate: give at least one rate")
	}
	return out, nil
}

// printResults writes a table (with the machine first) or, with asJSON,
// one JSON object per run.
func printResults(w io.Writer, results []*pbench.Result, asJSON bool) error {
	if len(results) == 0 {
		return nil
	}
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(w, "machine: %s; %s\n", pbench.Machine(), time.Now().UTC().Format(time.RFC3339))
	return pbench.WriteTable(w, results)
}
