package ws

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// FuzzCursor decodes any JSON as a sync cursor: a cursor is accepted only
// as an integer N (seq N, mod 0) or an object with integer seq and mod and
// nothing else, and what is accepted is what was written.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{`0`, `42`, `-1`, `9223372036854775807`, `9223372036854775808`, `1.5`, `1e3`, `"1"`,
		`null`, `true`, `[]`, `{}`, `{"seq":3}`, `{"seq":3,"mod":4}`, `{"mod":4}`, `{"seq":3,"mod":4,"x":1}`,
		`{"SEQ":3}`, `{"seq":"3"}`, `{"seq":null}`, `{"seq":3}{`, `{`, ``, ` 7 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c cursor
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		text := strings.TrimSpace(string(data))
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			if c.Seq != n || c.Mod != 0 {
				t.Fatalf("%q: cursor %+v", data, c)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil || m == nil {
			t.Fatalf("%q accepted as %+v: neither an integer nor an object", data, c)
		}
		for k, v := range m {
			n, err := strconv.ParseInt(string(v), 10, 64)
			switch {
			case err != nil:
				t.Fatalf("%q accepted as %+v: %s is not an integer", data, c, k)
			case strings.EqualFold(k, "seq") && n != c.Seq, strings.EqualFold(k, "mod") && n != c.Mod:
				t.Fatalf("%q accepted as %+v", data, c)
			case !strings.EqualFold(k, "seq") && !strings.EqualFold(k, "mod"):
				t.Fatalf("%q accepted as %+v: unknown field %q", data, c, k)
			}
		}
	})
}
