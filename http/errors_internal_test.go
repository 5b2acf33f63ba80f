package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"parley/openapi"
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

// TestDescriptionListsEveryCode: openapi.json's ErrorCode lists exactly
// the codes that have a status.
func TestDescriptionListsEveryCode(t *testing.T) {
	var spec struct {
		Components struct {
			Schemas struct {
				ErrorCode struct {
					Enum []string `json:"enum"`
				} `json:"ErrorCode"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi.JSON, &spec); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range spec.Components.Schemas.ErrorCode.Enum {
		listed[c] = true
		if _, ok := codes[c]; !ok {
			t.Errorf("openapi.json lists error code %q, which has no status in codes", c)
		}
	}
	for c := range codes {
		if !listed[c] {
			t.Errorf("error code %q is missing from openapi.json (components.schemas.ErrorCode)", c)
		}
	}
}
