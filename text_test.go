package parley

import (
	"testing"
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
