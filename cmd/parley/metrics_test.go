package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMetricsListener: with --metrics-addr, GET /metrics answers there and
// not on the public port.
func TestMetricsListener(t *testing.T) {
	addr, metrics := freeAddr(t), freeAddr(t)
	env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_LOG_LEVEL": "warn", "PARLEY_METRICS_ADDR": metrics}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"parley", "serve", "--addr", addr}, func(k string) string { return env[k] }, nil, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	if line, _ := bufio.NewReader(pr).ReadString('\n'); !strings.Contains(line, addr) {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, pr)
	body := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, b := body("http://" + metrics + "/metrics"); status != 200 || !strings.Contains(b, "parley_ws_connections") {
		t.Fatalf("metrics listener: %d %.200s", status, b)
	}
	if status, b := body("http://" + addr + "/metrics"); status == 200 && strings.Contains(b, "go_goroutines") {
		t.Fatalf("public port serves metrics: %.200s", b)
	}
	// The version the binary was stamped with is in the metrics and the features.
	if _, b := body("http://" + metrics + "/metrics"); !strings.Contains(b, `parley_build_info{goversion="`+runtime.Version()+`",version="`+version+`"} 1`) {
		t.Fatalf("no parley_build_info for %s in the metrics", version)
	}
	if _, b := body("http://" + addr + "/api/v1/features"); !strings.Contains(b, `"version":"`+version+`"`) {
		t.Fatalf("features: %s", b)
	}
}
