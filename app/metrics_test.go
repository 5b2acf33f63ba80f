package app_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"parley/app"
	"parley/servertest"
)

// documentedMetrics reads the tables of docs/metrics.md: metric name to
// type.
func documentedMetrics(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_:]+)` \\| (counter|gauge|histogram|summary) \\|")
	docs := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if _, dup := docs[m[1]]; dup {
			t.Errorf("docs/metrics.md lists %s twice", m[1])
		}
		docs[m[1]] = m[2]
	}
	if len(docs) < 10 {
		t.Fatalf("docs/metrics.md: only %d metrics found", len(docs))
	}
	return docs
}

// TestMetricsDocumented: every parley_ metric a node registers (on the
// NATS bus, so that the repair metrics are there too) is in
// docs/metrics.md with its type and follows the naming conventions; every
// one listed is registered; and every metric the sample Grafana dashboard
// queries is listed and registered.
func TestMetricsDocumented(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.NATSURL = ns.ClientURL() }))
	// Vectors appear once they have a value: a request and a message.
	alice := servertest.SignUp(t, srv.URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")["id"]
	alice.Must(201, "POST", "/api/v1/conversations/"+jsonNumber(g)+"/messages", map[string]any{"client_msg_id": "m1", "text": "hi"})
	alice.Must(200, "POST", "/api/v1/conversations/"+jsonNumber(g)+"/messages", map[string]any{"client_msg_id": "m1", "text": "hi"}) // a resend

	families, err := srv.Node.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]string{}
	for _, f := range families {
		registered[f.GetName()] = strings.ToLower(f.GetType().String())
		if f.GetName() == "parley_messages_sent_total" {
			if n := f.GetMetric()[0].GetCounter().GetValue(); n != 1 {
				t.Errorf("parley_messages_sent_total is %v after one message and its resend, want 1", n)
			}
		}
	}
	docs := documentedMetrics(t)
	for name, typ := range registered {
		if !strings.HasPrefix(name, "parley_") {
			continue
		}
		if docs[name] == "" {
			t.Errorf("%s (%s) is registered but not in docs/metrics.md", name, typ)
		} else if docs[name] != typ {
			t.Errorf("%s is a %s; docs/metrics.md says %s", name, typ, docs[name])
		}
		switch total := strings.HasSuffix(name, "_total"); {
		case typ == "counter" && !total:
			t.Errorf("counter %s does not end in _total", name)
		case typ != "counter" && total:
			t.Errorf("%s %s ends in _total, which is for counters", typ, name)
		case typ == "histogram" && !strings.HasSuffix(name, "_seconds") && !strings.HasSuffix(name, "_bytes"):
			t.Errorf("histogram %s does not end in its base unit (_seconds, _bytes)", name)
		}
		for _, bad := range []string{"_ms", "_milliseconds", "_kb", "_mb", "_kib", "_mib", "_count_total"} {
			if strings.Contains(name, bad) {
				t.Errorf("%s: use base units (seconds, bytes)", name)
			}
		}
	}
	for name := range docs {
		if registered[name] == "" {
			t.Errorf("docs/metrics.md lists %s, which the node does not register", name)
		}
	}

	// The dashboard: valid JSON, and every metric its queries name exists.
	b, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	name := regexp.MustCompile(`\b(?:parley|go|process)_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, n := range name.FindAllString(target.Expr, -1) {
				base := n
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(n, suffix); ok && (docs[b] == "histogram" || docs[b] == "summary") {
						base = b
					}
				}
				if docs[base] == "" || registered[base] == "" {
					t.Errorf("dashboard panel %q queries %s: documented %v, registered %v", p.Title, n, docs[base] != "", registered[base] != "")
				}
				used[base] = true
			}
		}
	}
	var unused []string
	for n := range docs {
		if strings.HasPrefix(n, "parley_") && !used[n] {
			unused = append(unused, n)
		}
	}
	slices.Sort(unused)
	if len(unused) > 0 {
		t.Logf("parley metrics the dashboard does not show: %v", unused)
	}
	if len(used) < 10 {
		t.Fatalf("the dashboard queries only %d metrics", len(used))
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
