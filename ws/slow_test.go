package ws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/app"
	"parley/servertest"
)

// lockedBuffer is a log destination tests read while the node writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// metricSum adds up a metric family's values.
func metricSum(t *testing.T, srv *servertest.Server, name string) float64 {
	t.Helper()
	families, err := srv.Node.Metrics.Gather()
	if err != nil {
		t.Error(err) // not Fatal: senders' goroutines call it too
		return 0
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestStoppedReaderDropped: a client that stops reading while events keep
// coming is dropped as docs/protocol.md says (close 4008, or, its socket
// buffers being full, the TCP connection dropped without a close frame),
// the drop is logged at info with the connection and its queue's figures,
// and counted in parley_ws_slow_consumer_drops_total.
func TestStoppedReaderDropped(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := servertest.StartLogged(t, log, servertest.WithConfig(func(c *app.Config) {
		c.Realtime.QueueBytes = 256 << 10
		c.Realtime.QueueAge = time.Second
		// Keepalive would drop him too (no pong) if the events came
		// slowly (TestDeadPeerDropped): here the queue does.
		c.Realtime.PingInterval = time.Hour
	}))
	at, bt := login(t, srv, "alice"), login(t, srv, "bob")
	g := servertest.Must(t, srv.URL, at, "POST", "/api/v1/groups", map[string]any{"name": "G", "code": "gcode1"}, 201).Body["conversation"].(map[string]any)
	servertest.Must(t, srv.URL, bt, "POST", "/api/v1/groups/join", map[string]any{"code": "gcode1"}, 201)

	// Bob's socket takes 64 KiB: unread, the kernel would otherwise let
	// its receive buffer grow to tcp_rmem's maximum (32 MiB here) before
	// the server's writes block.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
		return errors.Join(err, serr)
	}}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/ws", &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}},
		HTTPHeader: http.Header{"Authorization": {"Bearer " + bt}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(64 << 20)
	bob := &peer{t: t, c: ws, token: bt}
	_, hello, err := bob.c.Read(ctx) // then bob reads no more
	if err != nil || !bytes.HasPrefix(hello, []byte(`{"ev":"hello"`)) {
		t.Fatalf("hello: %s, %v", hello, err)
	}
	var connID string
	if i := bytes.Index(hello, []byte(`"conn_id":"`)); i >= 0 {
		connID = string(hello[i+len(`"conn_id":"`):])
		connID = connID[:strings.IndexByte(connID, '"')]
	}

	// Alice sends until bob is dropped (at most 24 MB).
	text := strings.Repeat("x", 4000)
	dropped := func() bool { return metricSum(t, srv, "parley_ws_slow_consumer_drops_total") >= 1 }
	var sent atomic.Int64
	var wg sync.WaitGroup
	failed := make(chan error, 4) // a sender's failure, for the test's goroutine
	for w := range 4 {
		wg.Go(func() {
			for i := 0; i < 1500 && !dropped(); i++ {
				a := servertest.Do(t, srv.URL, at, "POST", fmt.Sprintf("/api/v1/conversations/%v/messages", g["id"]),
					map[string]any{"client_msg_id": fmt.Sprint(w, "-", i), "text": text})
				if a.Status != 201 {
					failed <- fmt.Errorf("sender %d, message %d: %d %s", w, i, a.Status, a.Raw)
					return
				}
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	close(failed)
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
	if !dropped() {
		t.Fatalf("%d messages of 4 KB sent to a client that reads nothing, and it was not dropped", sent.Load())
	}

	line := ""
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "slow consumer dropped") {
			line = l
		}
	}
	t.Logf("after %d messages: %s", sent.Load(), line)
	for _, want := range []string{"level=INFO", "conn=" + connID, "reason=", "queued_bytes=", "oldest_ms=", "node_queued_bytes=", "close_code=4008"} {
		if !strings.Contains(line, want) {
			t.Fatalf("drop log line %q lacks %q", line, want)
		}
	}

	// What bob sees once he reads again: what was buffered, then the end:
	// a 4008 close frame, or a connection dropped without one.
	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		_, _, err := bob.c.Read(ctx)
		if err == nil {
			continue
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("the stopped reader's connection did not end")
		}
		if code := websocket.CloseStatus(err); code != 4008 && code != -1 {
			t.Fatalf("connection ended with close code %d, want 4008 or no close frame", code)
		}
		break
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.Node.Registry.Count(bob.userID(t, srv)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dropped connection is still registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
