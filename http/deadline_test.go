package http_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/app"
	phttp "parley/http"
	"parley/servertest"
)

// trickle sends a request announcing a body of length n but sending only
// body, one byte every gap, and returns the first line of the answer, or
// "" if none came within wait.
func trickle(t *testing.T, srv *servertest.Server, path, body string, n int, gap, wait time.Duration) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(n) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	conn.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestSlowBodyCut: a request body that has not arrived within the body
// timeout is cut with 400, while an open WebSocket, which has no body,
// lives on past it; a route with a longer deadline of its own
// (WithBodyTimeout, for uploads) waits for its body.
func TestSlowBodyCut(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.BodyTimeout = 300 * time.Millisecond
		c.Extra = func(n *app.Node, mux *http.ServeMux, auth func(h phttp.AuthedHandler) http.Handler) {
			mux.Handle("POST /api/v1/test/slow", phttp.WithBodyTimeout(time.Minute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadAll(r.Body); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})))
			// A handler that answers long after its body came, as a stream does.
			mux.HandleFunc("POST /api/v1/test/long", func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body)
				close(started)
				select {
				case <-release:
					io.WriteString(w, "alive")
				case <-r.Context().Done():
					io.WriteString(w, "canceled")
				}
			})
		}
	}))
	alice := servertest.SignUp(t, srv.URL, "alice")
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + alice.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	long := make(chan string, 1)
	go func() {
		res, err := http.Post(srv.URL+"/api/v1/test/long", "application/json", strings.NewReader(`{}`))
		if err != nil {
			long <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		long <- string(b)
	}()
	<-started

	// A body that never ends, one byte every 100 ms.
	if line := trickle(t, srv, "/api/v1/auth/login", `{"login":"alice","password":"`, 1000, 100*time.Millisecond, 20*time.Second); !strings.Contains(line, " 400 ") {
		t.Fatalf("slow body: answer %q, want 400 within the body timeout", line)
	}
	// A request whose body came at once is not cut however long it runs.
	close(release)
	if got := <-long; got != "alive" {
		t.Fatalf("long request after the body timeout: %q", got)
	}
	// The WebSocket is older than the body timeout and still answers.
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","id":"p"}`)); err != nil {
		t.Fatal(err)
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, data, err := ws.Read(rctx)
		cancel()
		if err != nil {
			t.Fatalf("WebSocket after the body timeout: %v", err)
		}
		if strings.Contains(string(data), `"re":"p"`) {
			break
		}
	}
	// 8 bytes over about 800 ms, past the default but within the route's own.
	if line := trickle(t, srv, "/api/v1/test/slow", `{"a":12}`, 8, 100*time.Millisecond, 20*time.Second); !strings.Contains(line, " 204 ") {
		t.Fatalf("route with its own deadline: answer %q, want 204", line)
	}
}
