package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestResultJSONAndTable(t *testing.T) {
	r := &Result{Scenario: "fanout", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r.param("members", 1000, "")
	r.param("rate", 500.0, "msg/s")
	r.fig("latency p99", 12.5, "ms")
	r.fig("delivered/expected", 1.0, "")
	r.Complete = true
	r.note("a note")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"scenario":"fanout","started":"2026-01-02T03:04:05Z","complete":true,` +
		`"params":{"members":1000,"rate_msg_per_s":500},` +
		`"figures":{"latency_p99_ms":12.5,"delivered_per_expected":1},"problems":[],"notes":["a note"]}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}

	r2 := &Result{Scenario: "fanout"}
	r2.param("members", 1000, "")
	r2.param("rate", 1000.0, "msg/s")
	r2.fig("latency p99", 250.25, "ms")
	r2.problem("%d deliveries missing", 3)
	var out bytes.Buffer
	if err := WriteTable(&out, []*Result{r, r2}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, w := range []string{"run 1", "run 2", "latency p99", "12.5", "250.25", "complete", "INCOMPLETE", "run 2: 3 deliveries missing", "note: a note"} {
		if !strings.Contains(s, w) {
			t.Errorf("table lacks %q:\n%s", w, s)
		}
	}
}
