package parley

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSearch(t *testing.T) {
	for _, c := range []struct {
		q    string
		want []string
		err  bool
	}{
		{q: "Hello  World", want: []string{"hello", "world"}},
		{q: `"Hello   World" again`, want: []string{"hello world", "again"}},
		{q: `say "unterminated phrase`, want: []string{"say", "unterminated phrase"}},
		{q: `mess* MESS`, want: []string{"mess"}},
		{q: `AND OR NOT NEAR`, want: []string{"and", "or", "not", "near"}},
		{q: `a"b"c`, want: []string{"a", "b", "c"}},
		{q: `東京タワー`, want: []string{"東京タワー"}},
		{q: `ÉCOLE`, want: []string{"école"}},
		{q: "   ", err: true},
		{q: `"" *`, err: true},
		{q: strings.Repeat("x", SearchQueryMax+1), err: true},
		{q: "1 2 3 4 5 6 7 8 9", err: true},
		{q: "\xff", err: true},
	} {
		got, err := ParseSearch(c.q)
		if c.err {
			if ErrorCode(err) != EINVALID {
				t.Errorf("ParseSearch(%q) = %q, %v; want EINVALID", c.q, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseSearch(%q) = %q, %v; want %q", c.q, got, err, c.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	s, m := Snippet("Hello World, hello again", []string{"hello"})
	if s != "Hello World, hello again" || !slices.Equal(m, [][2]int{{0, 5}, {13, 18}}) {
		t.Errorf("got %q %v", s, m)
	}
	s, m = Snippet("東京タワーに行きました", []string{"タワー"})
	if !slices.Equal(m, [][2]int{{2, 5}}) || string([]rune(s)[2:5]) != "タワー" {
		t.Errorf("got %q %v", s, m)
	}
	long := strings.Repeat("a", 300) + " needle " + strings.Repeat("b", 300)
	s, m = Snippet(long, []string{"needle"})
	r := []rune(s)
	if len(r) > SnippetMax+2 || len(m) != 1 || string(r[m[0][0]:m[0][1]]) != "needle" || r[0] != '…' || r[len(r)-1] != '…' {
		t.Errorf("got %q %v", s, m)
	}
	// Overlapping terms: the longer first, the other left out.
	s, m = Snippet("abcdef", []string{"bcd", "abcd"})
	if s != "abcdef" || !slices.Equal(m, [][2]int{{0, 4}}) {
		t.Errorf("got %q %v", s, m)
	}
}
