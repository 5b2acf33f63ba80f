package nats_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"parley"
	"parley/bustest"
	"parley/nats"
	"parley/servertest"
)

const waitTimeout = 30 * time.Second

// quiet discards the Bus's logs: nats.go calls its handlers from its own
// goroutines, possibly after a test has ended.
var quiet = slog.New(slog.DiscardHandler)

// runServer starts an embedded NATS server on 127.0.0.1 (port -1: any free
// port) and shuts it down when the test ends.
func runServer(t *testing.T, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("embedded NATS server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// deployment returns a newBus for bustest.Run: two connections ("nodes") to
// url, on a subject prefix of their own so that runs sharing a server do
// not see each other.
func deployment(url string) func(t *testing.T) []parley.Bus {
	return func(t *testing.T) []parley.Bus {
		prefix := fmt.Sprintf("test.%x", rand.Uint64())
		buses := make([]parley.Bus, 2)
		for i := range buses {
			b, err := nats.Open(url, nats.WithLogger(quiet), nats.WithSubjectPrefix(prefix),
				nats.WithName(fmt.Sprintf("bustest-node-%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			buses[i] = b
		}
		return buses
	}
}

func TestBusEmbeddedServer(t *testing.T) {
	s := runServer(t, -1)
	bustest.Run(t, deployment(s.ClientURL()))
}

// TestBusLocalServer runs the suite against the NATS server this machine
// runs (PARLEY_TEST_NATS_URL, default nats://127.0.0.1:4222). Without one
// it is skipped, except in CI (CI=true), where it fails.
func TestBusLocalServer(t *testing.T) {
	url := os.Getenv("PARLEY_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	b, err := nats.Open(url, nats.WithLogger(quiet))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no NATS server at %s: %v", url, err)
		}
		t.Skipf("no NATS server at %s (set PARLEY_TEST_NATS_URL): %v", url, err)
	}
	b.Close()
	bustest.Run(t, deployment(url))
}

// inbox is a handler that keeps what it gets and signals each arrival.
type inbox struct {
	mu     sync.Mutex
	msgs   []string
	signal chan struct{}
}

func newInbox() *inbox { return &inbox{signal: make(chan struct{}, 1)} }

func (in *inbox) handle(data []byte) {
	in.mu.Lock()
	in.msgs = append(in.msgs, string(data))
	in.mu.Unlock()
	select {
	case in.signal <- struct{}{}:
	default:
	}
}

func (in *inbox) has(prefix string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, m := range in.msgs {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// waitFor waits until a message starting with prefix has arrived, or d
// has passed.
func (in *inbox) waitFor(prefix string, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for !in.has(prefix) {
		select {
		case <-in.signal:
		case <-timer.C:
			return false
		}
	}
	return true
}

// logRecorder is a slog.Handler that keeps the messages logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) logged(prefix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// The server goes away and comes back on the same port: both nodes
// reconnect by themselves, log it, keep their subscriptions, and deliveries
// resume.
func TestReconnectAfterServerRestart(t *testing.T) {
	s := runServer(t, -1)
	port := s.Addr().(*net.TCPAddr).Port
	url := s.ClientURL()
	logs := &logRecorder{}
	var reconnects atomic.Int32
	open := func() *nats.Bus {
		b, err := nats.Open(url, nats.WithLogger(slog.New(logs)),
			nats.WithReconnectHandler(func() { reconnects.Add(1) }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	pub, sub := open(), open()
	in := newInbox()
	if _, err := sub.Subscribe("restart", in.handle); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := pub.Publish(ctx, "restart", []byte("before")); err != nil {
		t.Fatal(err)
	}
	if !in.waitFor("before", waitTimeout) {
		t.Fatal("no delivery before the restart")
	}

	s.Shutdown()
	s.WaitForShutdown()
	servertest.WaitFor(t, waitTimeout, func() bool {
		return !pub.Connected() && !sub.Connected()
	}, "both nodes to notice the server is gone")
	// While reconnecting, publishes are buffered rather than refused.
	if err := pub.Publish(ctx, "restart", []byte("during")); err != nil {
		t.Fatalf("Publish while reconnecting: %v", err)
	}

	runServer(t, port)
	servertest.WaitFor(t, waitTimeout, func() bool { return pub.Connected() && sub.Connected() }, "both nodes to reconnect")
	// Core NATS is at most once: a message may reach the new server before
	// the subscriber's interest does. Publish until one gets through.
	deadline := time.Now().Add(waitTimeout)
	for i := 0; !in.waitFor("after", 50*time.Millisecond); i++ {
		if time.Now().After(deadline) {
			t.Fatal("deliveries did not resume after the server came back")
		}
		if err := pub.Publish(ctx, "restart", fmt.Appendf(nil, "after %d", i)); err != nil {
			t.Fatalf("Publish after reconnect: %v", err)
		}
	}
	for _, want := range []string{"nats: disconnected", "nats: reconnected"} {
		if !logs.logged(want) {
			t.Errorf("nothing logged starting %q", want)
		}
	}
	// The reconnect handler ran once per node (on nats.go's callback
	// goroutine, which may lag the reconnect itself).
	servertest.WaitFor(t, waitTimeout, func() bool { return reconnects.Load() == 2 }, "the reconnect handler to run on both nodes")
}

// stallingServer accepts NATS clients, completes the handshake, and then
// never reads again: the network to it is as slow as it gets.
func stallingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				io.WriteString(c, `INFO {"server_id":"stall","version":"2.10.0","proto":1,"max_payload":1048576,"headers":true}`+"\r\n")
				r := bufio.NewReader(c)
				for { // CONNECT, then PING
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "PING") {
						io.WriteString(c, "PONG\r\n")
						return // and read nothing more
					}
				}
			})
		}
	})
	return "nats://" + ln.Addr().String()
}

// Publish does not hang on a stalled network: each call returns within
// about the publish timeout, with an error or having buffered the message.
func TestPublishBoundedOnStalledNetwork(t *testing.T) {
	const timeout = 200 * time.Millisecond
	b, err := nats.Open(stallingServer(t), nats.WithLogger(quiet), nats.WithPublishTimeout(timeout),
		nats.WithReconnectBufSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	payload := make([]byte, 512<<10)
	var failed int
	// Far more than the socket buffers hold: the writes must stall.
	for i := range 200 {
		start := time.Now()
		err := b.Publish(context.Background(), "stall", payload)
		if took := time.Since(start); took > 10*timeout {
			t.Fatalf("Publish %d took %v with a publish timeout of %v", i, took, timeout)
		}
		if err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Error("every Publish to a stalled server succeeded; expected the buffers to fill and publishes to fail")
	}
}

func TestClosedAndInvalid(t *testing.T) {
	s := runServer(t, -1)
	if _, err := nats.Open(s.ClientURL(), nats.WithSubjectPrefix("bad prefix")); err == nil {
		t.Error("Open with an invalid subject prefix succeeded")
	}
	b, err := nats.Open(s.ClientURL(), nats.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, topic := range []string{"", "a..b", ".a", "a.", "a.*", ">", "a b"} {
		if err := b.Publish(ctx, topic, nil); err == nil {
			t.Errorf("Publish to %q succeeded", topic)
		}
		if _, err := b.Subscribe(topic, func([]byte) {}); err == nil {
			t.Errorf("Subscribe to %q succeeded", topic)
		}
	}
	if !b.Connected() {
		t.Error("not connected after Open")
	}
	b.Close()
	if b.Connected() {
		t.Error("connected after Close")
	}
	if err := b.Publish(ctx, "x", nil); !errors.Is(err, nats.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if _, err := b.Subscribe("x", func([]byte) {}); !errors.Is(err, nats.ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = nats.Open("nats://user:secret@"+addr, nats.WithLogger(quiet))
	if err == nil {
		t.Fatal("Open of an address where nothing listens succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
}
