package ws_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/servertest"
)

// TestBinaryFrameRefused: a binary frame closes the connection with 1003
// instead of being answered, so binary frames cannot get past the
// operation limit.
func TestBinaryFrameRefused(t *testing.T) {
	srv := servertest.Start(t)
	a := dial(t, srv, login(t, srv, "alice"), true)
	a.await("hello", ev("hello"))
	if err := a.c.Write(context.Background(), websocket.MessageBinary, []byte(`{"op":"ping","id":"1"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		if websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Fatalf("closed with %v, want 1003", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("socket still open 10 s after a binary frame")
	}
}
