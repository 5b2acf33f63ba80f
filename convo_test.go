package parley

import "testing"

func TestValidateEmoji(t *testing.T) {
	for _, ok := range []string{"👍", "❤️", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☕", "©️"} {
		if err := ValidateEmoji(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "ok", "1", "#", " 👍", "👍 ", "<b>", "\u200d", "\ufe0f", "👍\x00",
		"👍👍👍👍👍👍👍👍👍", "\xff"} {
		if err := ValidateEmoji(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if e := err.(*Error); e.Field != "emoji" {
			t.Errorf("%q: field %q", bad, e.Field)
		}
	}
}

func TestFirstLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"hello", "hello"},
		{"\n\n  two  \nthree", "two"},
		{"   ", ""},
		{"abcdefghij", "abcdefghij"},
		{"abcdefghijk", "abcdefghi…"},
		{"abcdefgh  jk", "abcdefgh…"},
	} {
		if got := FirstLine(c.in, 10); got != c.want {
			t.Errorf("FirstLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
