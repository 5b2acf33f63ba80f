package http

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request its client cancelled (an upgrade given up, a closed tab) is
// not an error of the server: no ERROR line, status 499 in the metrics.
// Other internal errors are logged as ever.
func TestCancelledRequestNotLoggedAsError(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/api/v1/ws", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	s.writeError(w, r, fmt.Errorf("load conversations: %w", context.Canceled))
	if w.Code != StatusClientClosed {
		t.Errorf("status %d, want %d", w.Code, StatusClientClosed)
	}
	if logs.Len() > 0 {
		t.Errorf("logged %q", logs.String())
	}

	w = httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest("GET", "/api/v1/me", nil), fmt.Errorf("a bug"))
	if w.Code != 500 || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("internal error: %d, logs %q", w.Code, logs.String())
	}
}
