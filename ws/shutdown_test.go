package ws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/servertest"
)

// A stopping node turns /readyz 503 and refuses upgrades (503 unavailable)
// before it closes its WebSockets with 1001: a client that reconnects at
// once, as clients do, is refused rather than connected into the dying
// node, and tries elsewhere.
func TestShutdownRefusesUpgradesFirst(t *testing.T) {
	srv := servertest.Start(t)
	tok := login(t, srv, "leaver")
	p := dial(t, srv, tok, true)
	p.await("hello", ev("hello"))

	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Node.Shutdown(ctx)
	}()
	for range p.events { // until the connection ends
	}
	if err := <-p.done; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("connection ended with %v, want 1001", err)
	}
	// Reconnecting at once is refused before the upgrade.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err == nil {
		c.CloseNow()
		t.Fatal("a stopping node accepted an upgrade")
	}
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	if res != nil {
		json.NewDecoder(res.Body).Decode(&body)
	}
	if res == nil || res.StatusCode != http.StatusServiceUnavailable || body.Error.Code != "unavailable" {
		t.Fatalf("upgrade to a stopping node: %v %+v, want 503 unavailable", err, res)
	}
	r, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz of a stopping node: %d, want 503", r.StatusCode)
	}
	<-done
}
