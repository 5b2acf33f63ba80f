package bench_test

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"parley/app"
	"parley/bench"
	"parley/servertest"
)

// The scenarios run end to end, tiny, against an in-process node: they must
// see everything they send arrive. No timing is asserted.

func target(t *testing.T) bench.Target {
	srv := servertest.Start(t)
	var log io.Writer = io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	return bench.Target{URL: srv.URL, PID: os.Getpid(), Concurrency: 8, Log: log}
}

func complete(t *testing.T, rs []*bench.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rs {
		if !r.Complete {
			t.Errorf("%s incomplete: %v", r.Scenario, r.Problems)
		}
	}
}

func TestFanout(t *testing.T) {
	ctx := context.Background()
	rs, err := bench.Fanout(ctx, target(t), bench.FanoutConfig{Members: 5, Senders: 2, Rates: []float64{20, 40},
		Duration: 500 * time.Millisecond, Drain: 10 * time.Second, Size: 10})
	complete(t, rs, err)
	if len(rs) != 2 {
		t.Fatalf("%d runs, want one per rate", len(rs))
	}
}

func TestPairs(t *testing.T) {
	rs, err := bench.Pairs(context.Background(), target(t), bench.PairsConfig{Pairs: 3, Rates: []float64{4},
		Duration: 500 * time.Millisecond, Drain: 10 * time.Second})
	complete(t, rs, err)
}

func TestConnect(t *testing.T) {
	r, err := bench.Connect(context.Background(), target(t), bench.ConnectConfig{Conns: 12, PerUser: 5,
		Concurrency: 4, Settle: 10 * time.Millisecond, Hold: 10 * time.Millisecond})
	complete(t, []*bench.Result{r}, err)
}

func TestCatchup(t *testing.T) {
	r, err := bench.Catchup(context.Background(), target(t), bench.CatchupConfig{Messages: 60, Conversations: 3, Size: 10})
	complete(t, []*bench.Result{r}, err)
}

func TestAuth(t *testing.T) {
	r, err := bench.Auth(context.Background(), target(t), bench.AuthConfig{Users: 4, Concurrency: 2})
	complete(t, []*bench.Result{r}, err)
}

func TestPush(t *testing.T) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Push.AllowedHosts = []string{sink.Addr().String()}
		c.Push.Delay = 200 * time.Millisecond
	}))
	tg := bench.Target{URL: srv.URL, PID: os.Getpid(), Concurrency: 8, Log: io.Discard}
	r, err := bench.Push(context.Background(), tg, bench.PushConfig{Members: 6, Bursts: 2, Delay: 200 * time.Millisecond,
		Sink: sink, Drain: 15 * time.Second})
	complete(t, []*bench.Result{r}, err)
}
