package parley

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Text that Parley keeps or looks up is valid UTF-8 without NUL: PostgreSQL
// refuses both (a NUL, or a byte that is not UTF-8, in a query is an error
// there and not in SQLite), and neither is something a person writes. The
// edges check every input with these before it goes further, so every
// store gives the same answer: 400 invalid.

// ValidText reports whether s is valid UTF-8 without NUL.
func ValidText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// CheckJSONText checks the strings of a JSON document, keys and values:
// each must be valid UTF-8, without NUL (raw or escaped as \u0000) and
// without an unpaired surrogate escape (\ud800, which a JSON decoder would
// silently turn into U+FFFD). The error is EINVALID, naming the field of
// the value at fault (none for a key at fault). It checks nothing else:
// malformed JSON is the decoder's to report.
func CheckJSONText(data []byte) error {
	var field []byte // the last key read
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		end, ok := scanString(data, i+1)
		j := end + 1
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		isKey := j < len(data) && data[j] == ':'
		switch {
		case !ok && isKey:
			return textError("")
		case !ok:
			return textError(fieldName(field))
		case isKey:
			field = data[i : end+1]
		}
		i = end
	}
	return nil
}

// scanString reads the JSON string that starts at data[i] (after its
// opening quote) and returns the index of its closing quote (len(data) if
// there is none), and whether its text is valid.
func scanString(data []byte, i int) (end int, ok bool) {
	ok = true
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i, ok
		case c == 0:
			ok = false
			i++
		case c == '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, n := escapedRune(data[i:])
				if r == 0 || r == utf8.RuneError { // -1: malformed, the decoder's to report
					ok = false
				}
				i += n
				continue
			}
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				ok = false
			}
			i += n
		}
	}
	return len(data), ok
}

// escapedRune reads a \uXXXX escape (or a surrogate pair of them) at the
// start of b and returns the rune (utf8.RuneError for an unpaired
// surrogate, -1 for a malformed escape) and the bytes it takes.
func escapedRune(b []byte) (rune, int) {
	hi, ok := hex4(b)
	if !ok {
		return -1, 2
	}
	switch {
	case hi >= 0xdc00 && hi < 0xe000:
		return utf8.RuneError, 6
	case hi < 0xd800 || hi >= 0xe000:
		return hi, 6
	}
	if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if lo, ok := hex4(b[6:]); ok && lo >= 0xdc00 && lo < 0xe000 {
			return 0x10000 + (hi-0xd800)<<10 + (lo - 0xdc00), 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 reads the four hex digits of a \uXXXX escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// fieldName decodes a key (quoted, as in the JSON); "" if it is not text.
func fieldName(quoted []byte) string {
	var s string
	if len(quoted) == 0 || json.Unmarshal(quoted, &s) != nil || !ValidText(s) {
		return ""
	}
	return s
}

func textError(field string) error {
	if field == "" {
		return Errorf(EINVALID, "Text must be valid UTF-8, without NUL characters.")
	}
	return FieldErrorf(field, "%s must be valid UTF-8, without NUL characters.", field)
}

// CheckText checks one piece of text from outside JSON (a query parameter
// named field, a path: field ""), as CheckJSONText does.
func CheckText(field, s string) error {
	if !ValidText(s) {
		return textError(field)
	}
	return nil
}
