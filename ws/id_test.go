package ws

import (
	"encoding/json"
	"testing"
)

// rawID must give what requestID gives for every kind of id.
func TestRawIDMatchesRequestID(t *testing.T) {
	for _, id := range []string{`"7"`, `"a-b c"`, `"\u00e9t\u00e9"`, `"été"`, `"a\"b"`, `"\\"`, `""`, `12`, `-3.5`, `1e3`,
		`12345678901234567890`, `0.1`, `true`, `null`, `{"x":1}`, `[1]`} {
		data := []byte(`{"op":"ping","id":` + id + `}`)
		var req request
		if err := json.Unmarshal(data, &req); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got, want := rawID(req.ID), requestID(data); got != want {
			t.Errorf("id %s: rawID %q, requestID %q", id, got, want)
		}
	}
	if rawID(nil) != "" {
		t.Error("missing id")
	}
}
