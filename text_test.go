package parley

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckJSONText(t *testing.T) {
	for _, c := range []struct {
		in    string
		field string // "-": no error
	}{
		{`{"a":"hello","b":["x","y"],"c":{"d":"é😀"}}`, "-"},
		{`{"a":"\u00e9\ud83d\ude00\\u0000"}`, "-"}, // an escaped backslash, then "u0000": text
		{`{"a":"x\u0000"}`, "a"},
		{`{"a":"x\U0000"}`, "-"}, // not an escape JSON has
		{"{\"a\":\"x\x00\"}", "a"},
		{"{\"a\":\"x\xff\"}", "a"},
		{"{\"a\":\"\xed\xa0\x80\"}", "a"}, // a surrogate encoded in UTF-8
		{`{"a":"x\ud800"}`, "a"},
		{`{"a":"x\ud800\u0041"}`, "a"},
		{`{"a":"x\udc00\ud800"}`, "a"},
		{`{"a":"ok","b" : "x\u0000"}`, "b"},
		{`{"a\u0000":"x"}`, ""},
		{`{"cursors":{"5\u0000":1}}`, ""},
		{`{"a":"x\u00`, "-"}, // malformed: the decoder's to report
		{`"\`, "-"},
		{`{"a":"x\u00zz"}`, "-"},
	} {
		err := CheckJSONText([]byte(c.in))
		switch {
		case c.field == "-" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.field != "-" && (ErrorCode(err) != EINVALID || ErrorField(err) != c.field):
			t.Errorf("%q: %v (field %q), want invalid with field %q", c.in, err, ErrorField(err), c.field)
		}
	}
}

// FuzzCheckJSONText compares CheckJSONText with what encoding/json makes
// of a document: where the decoder yields only valid text with no U+FFFD,
// CheckJSONText accepts; where it yields a NUL, or a U+FFFD that stands
// for something the document does not spell as U+FFFD (bytes that are not
// UTF-8, an unpaired surrogate), CheckJSONText refuses.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":["\u00e9",{"b":"\ud83d\ude00"}]}`, `{"a":"\u0000"}`, "{\"a\":\"\xff\"}",
		`{"a":"\ud800"}`, `{"a":"\udc00\ud800"}`, `{"a":"\ufffd"}`, "{\"a\":\"\xef\xbf\xbd\"}", `{"a\u0000":1}`,
		`"\\u0000"`, `[1,"x\ud800y"]`, `{"a":"\ud800\ud800\udc00"}`, `"\u00"`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckJSONText(data)
		if err != nil && ErrorCode(err) != EINVALID {
			t.Fatalf("%q: %v", data, err)
		}
		if !json.Valid(data) {
			return
		}
		// Every string, keys and values, duplicates too, as decoded.
		clean, nul, replaced := true, false, 0
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if s, ok := tok.(string); ok {
				clean = clean && utf8.ValidString(s)
				nul = nul || strings.IndexByte(s, 0) >= 0
				replaced += strings.Count(s, "\uFFFD")
			}
		}
		spelled := strings.Count(string(data), "\uFFFD") + strings.Count(strings.ToLower(string(data)), `\ufffd`)
		switch {
		case !clean:
			t.Fatalf("%q: the decoder yields text that is not UTF-8", data)
		case err != nil && !nul && replaced == 0:
			t.Fatalf("%q refused (%v) but decodes to clean text", data, err)
		case err == nil && (nul || replaced > spelled):
			t.Fatalf("%q accepted but decodes to a NUL or to U+FFFD it does not spell", data)
		}
	})
}
