package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one run of a scenario: its parameters, the figures measured and
// whether everything that was sent was seen to arrive.
type Result struct {
	Scenario string
	Started  time.Time
	Params   []Field
	Figures  []Field
	// Complete is true only if the run saw every expected acknowledgement,
	// delivery and stored message (or connection, or sync) itself.
	Complete bool
	// Problems say why a run is not complete.
	Problems []string
	// Notes say how the figures were obtained.
	Notes []string
}

// Field is one named value; Unit is "" for counts.
type Field struct {
	Name  string
	Value any
	Unit  string
}

func (r *Result) param(name string, v any, unit string) {
	r.Params = append(r.Params, Field{name, v, unit})
}

func (r *Result) fig(name string, v any, unit string) {
	r.Figures = append(r.Figures, Field{name, v, unit})
}

func (r *Result) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// latency adds p50/p90/p99/max figures of h in milliseconds.
func (r *Result) latency(prefix string, h *Hist) {
	r.fig(prefix+" p50", ms(h.Quantile(0.50)), "ms")
	r.fig(prefix+" p90", ms(h.Quantile(0.90)), "ms")
	r.fig(prefix+" p99", ms(h.Quantile(0.99)), "ms")
	r.fig(prefix+" max", ms(h.Max()), "ms")
}

// usage adds the server's CPU and memory figures, when its pid is known.
func (r *Result) usage(u procUsage) {
	if !u.ok {
		return
	}
	r.fig("server CPU", round(u.cpuPct, 1), "%")
	r.fig("server RSS", mib(u.rss), "MiB")
	r.fig("server peak RSS", mib(u.peakRSS), "MiB")
}

// machine adds the CPU the whole machine used and, when the server's and
// the bench's own use are known, what other processes took (a busy
// machine skews every figure).
func (r *Result) machine(busy float64, server, self procUsage) {
	if busy < 0 {
		return
	}
	r.fig("machine CPU", round(busy, 1), "%")
	if server.ok && self.ok {
		r.fig("other processes CPU", round(max(busy-server.cpuPct-self.cpuPct, 0), 1), "%")
	}
	r.note("CPU figures are percent of one core; this machine has %d", runtime.NumCPU())
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func mib(b int64) float64 { return round(float64(b)/(1<<20), 1) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func key(f Field) string {
	k := strings.ReplaceAll(f.Name, " ", "_")
	k = strings.ReplaceAll(k, "/", "_per_")
	if f.Unit != "" {
		u := strings.NewReplacer("%", "pct", "/", "_per_").Replace(f.Unit)
		k += "_" + u
	}
	return k
}

// MarshalJSON writes the run as one object, keys in the order measured:
// {"scenario", "started", "complete", "params":{…}, "figures":{…},
// "problems":[…], "notes":[…]}. Keys carry their unit: "p99_ms".
func (r *Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	obj := func(fields []Field) error {
		b.WriteByte('{')
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(key(f))
			v, err := json.Marshal(f.Value)
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		return nil
	}
	sc, _ := json.Marshal(r.Scenario)
	st, _ := json.Marshal(r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, `{"scenario":%s,"started":%s,"complete":%t,"params":`, sc, st, r.Complete)
	if err := obj(r.Params); err != nil {
		return nil, err
	}
	b.WriteString(`,"figures":`)
	if err := obj(r.Figures); err != nil {
		return nil, err
	}
	probs, _ := json.Marshal(nonNil(r.Problems))
	notes, _ := json.Marshal(nonNil(r.Notes))
	fmt.Fprintf(&b, `,"problems":%s,"notes":%s}`, probs, notes)
	return b.Bytes(), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteTable prints runs of one scenario side by side: a row per parameter
// and figure, a column per run, then each run's verdict, problems and notes.
func WriteTable(w io.Writer, runs []*Result) error {
	if len(runs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var names []string
	units := map[string]string{}
	vals := map[string][]string{}
	add := func(i int, f Field) {
		if _, ok := vals[f.Name]; !ok {
			names = append(names, f.Name)
			vals[f.Name] = make([]string, len(runs))
			units[f.Name] = f.Unit
		}
		vals[f.Name][i] = format(f.Value)
	}
	for i, r := range runs {
		for _, f := range r.Params {
			add(i, f)
		}
	}
	nParams := len(names)
	for i, r := range runs {
		for _, f := range r.Figures {
			add(i, f)
		}
	}
	fmt.Fprintf(tw, "%s\t", runs[0].Scenario)
	for i := range runs {
		fmt.Fprintf(tw, "run %d\t", i+1)
	}
	fmt.Fprintln(tw, "\t")
	for j, n := range names {
		if j == nParams {
			fmt.Fprint(tw, "--\t")
			for range runs {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprintln(tw, "\t")
		}
		fmt.Fprintf(tw, "%s\t", n)
		for _, v := range vals[n] {
			fmt.Fprintf(tw, "%s\t", v)
		}
		fmt.Fprintf(tw, "%s\t\n", units[n])
	}
	fmt.Fprint(tw, "result\t")
	for _, r := range runs {
		if r.Complete {
			fmt.Fprint(tw, "complete\t")
		} else {
			fmt.Fprint(tw, "INCOMPLETE\t")
		}
	}
	fmt.Fprintln(tw, "\t")
	if err := tw.Flush(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range runs {
		for _, p := range r.Problems {
			fmt.Fprintf(w, "run %d: %s\n", i+1, p)
		}
		for _, n := range r.Notes {
			if !seen[n] {
				seen[n] = true
				fmt.Fprintf(w, "note: %s\n", n)
			}
		}
	}
	return nil
}

func format(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%.0f", x)
		}
		return fmt.Sprintf("%g", x)
	case time.Duration:
		return x.String()
	}
	return fmt.Sprint(v)
}
