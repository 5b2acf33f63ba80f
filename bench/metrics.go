package bench

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
)

// serverMetrics reads a few of the server's Prometheus metrics (Go runtime
// and process collectors); missing ones are absent from the map.
func (e *env) serverMetrics(ctx context.Context, names ...string) map[string]float64 {
	out := map[string]float64{}
	url := e.MetricsURL
	if url == "" {
		url = e.URL + "/metrics"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return out
	}
	if e.MetricsToken != "" {
		req.Header.Set("Authorization", "Bearer "+e.MetricsToken)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out
}
