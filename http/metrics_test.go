package http_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"parley/app"
	"parley/servertest"
)

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestMetricsNotPublic: the public port serves no metrics to strangers;
// with a metrics token, it serves them to a bearer of that token only.
func TestMetricsNotPublic(t *testing.T) {
	srv := servertest.Start(t)
	if status, body := get(t, srv.URL+"/metrics", ""); status == 200 || strings.Contains(body, "go_goroutines") {
		t.Fatalf("GET /metrics on the public port: %d %.200s", status, body)
	}

	const token = "metrics-token-for-tests"
	srv = servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.MetricsToken = token }))
	for _, bearer := range []string{"", "wrong", token + "x"} {
		if status, body := get(t, srv.URL+"/metrics", bearer); status != 401 || strings.Contains(body, "go_goroutines") {
			t.Fatalf("GET /metrics with bearer %q: %d %.200s", bearer, status, body)
		}
	}
	status, body := get(t, srv.URL+"/metrics", token)
	if status != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "parley_ws_connections") {
		t.Fatalf("GET /metrics with the token: %d %.200s", status, body)
	}
}
