package parley

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Search limits (docs/protocol.md, "Search").
const (
	// SearchQueryMax is the longest query, in characters.
	SearchQueryMax = 200
	// SearchTermsMax is the most terms (words and phrases) a query may have.
	SearchTermsMax = 8
	// SearchLimitDefault and SearchLimitMax bound a page of message results.
	SearchLimitDefault = 20
	SearchLimitMax     = 50
	// SearchIndexedTerm is the shortest term the stores' indexes serve
	// (they index every run of three characters). A query whose terms are
	// all shorter is answered by scanning instead: see SearchShortScan.
	SearchIndexedTerm = 3
	// SearchShortScan is how many of the caller's newest messages (below
	// the cursor, in the conversation if one is given) a page of a query
	// of only short terms examines. A page that found fewer matches than
	// its limit may still come with a cursor: the next page examines the
	// messages before those.
	SearchShortScan = 5000
)

// SearchQuery selects messages for SearchStore.SearchMessages. Every
// message found is a text message, not deleted, of a conversation UserID
// is a member of now, whose text contains every term (FoldSearch of both:
// case does not matter, accents do).
type SearchQuery struct {
	UserID int64
	// Terms are folded (FoldSearch) and not empty; at least one.
	Terms []string
	// ConversationID, when not 0, keeps to one conversation.
	ConversationID int64
	// SenderID, when not 0, keeps to messages of one sender.
	SenderID int64
	// After and Before, when not zero, keep to messages created at or
	// after After and before Before.
	After, Before time.Time
	// HasAttachment keeps to messages with attachments.
	HasAttachment bool
	// BeforeID, when not 0, keeps to messages with an id below it (the
	// cursor of the previous page, SearchPage.Next).
	BeforeID int64
	// Limit is the page size; 0 or less means SearchLimitDefault.
	Limit int
}

// SearchPage is a page of search results, newest (highest id) first.
type SearchPage struct {
	Messages []Message
	// Next is the BeforeID of the next page; 0 when there is none.
	Next int64
}

// SearchStore finds messages by their text.
//
// Both stores keep their index in the transaction that writes the
// message: an appended message is found as soon as it is acknowledged, an
// edited one only by its new text, a deleted one never.
type SearchStore interface {
	// SearchMessages returns a page of the messages q selects, newest
	// first. A query with a term of SearchIndexedTerm characters or more
	// finds every match, through the index (a store may look for a page
	// among the newest messages first, in bounded work, when that gives
	// the same page sooner); one with only shorter terms examines at most
	// SearchShortScan candidate messages per page (see there).
	// EINVALID when q has no terms. ErrUnavailable when the database
	// cannot be reached.
	SearchMessages(ctx context.Context, q SearchQuery) (SearchPage, error)
}

// FoldSearch folds s for matching: every letter in lower case, so that
// case does not matter in any script that has it. It keeps every other
// character, and the number of characters.
func FoldSearch(s string) string {
	return strings.Map(unicode.ToLower, s)
}

// ParseSearch splits a query into folded terms: words separated by white
// space, and phrases in double quotes (an unterminated quote runs to the
// end). A trailing * on a word is accepted and dropped: every term matches
// anywhere in the text, so a word is also a prefix. Nothing of the
// query is passed to a database's query syntax. EINVALID (field q) for an
// empty or too long query, or too many terms.
func ParseSearch(q string) ([]string, error) {
	if utf8.RuneCountInString(q) > SearchQueryMax {
		return nil, FieldErrorf("q", "A search is at most %d characters.", SearchQueryMax)
	}
	if !utf8.ValidString(q) {
		return nil, FieldErrorf("q", "The search is not valid UTF-8.")
	}
	var terms []string
	add := func(t string) {
		t = FoldSearch(strings.Join(strings.Fields(t), " "))
		if t != "" && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	rest := q
	for rest != "" {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		if rest[0] == '"' {
			phrase, after, _ := strings.Cut(rest[1:], `"`)
			add(phrase)
			rest = after
			continue
		}
		end := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
		if end < 0 {
			end = len(rest)
		}
		add(strings.TrimRight(rest[:end], "*"))
		rest = rest[end:]
	}
	switch {
	case len(terms) == 0:
		return nil, FieldErrorf("q", "Say what to search for.")
	case len(terms) > SearchTermsMax:
		return nil, FieldErrorf("q", "A search has at most %d words or phrases.", SearchTermsMax)
	}
	return terms, nil
}

// SearchIndexed reports whether some term is long enough for the index.
func SearchIndexed(terms []string) bool {
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= SearchIndexedTerm {
			return true
		}
	}
	return false
}

// SnippetMax is the most characters of a message a search snippet shows.
const SnippetMax = 160

// Snippet returns the part of text around the first match of terms (at
// most SnippetMax characters, "…" marking what it cut) and the places of
// every match within it, as [start, end) offsets in characters (Unicode
// code points) of the snippet.
func Snippet(text string, terms []string) (string, [][2]int) {
	runes := []rune(text)
	folded := make([]rune, len(runes))
	for i, r := range runes {
		folded[i] = unicode.ToLower(r)
	}
	var matches [][2]int
	for _, t := range terms {
		tr := []rune(t)
		if len(tr) == 0 {
			continue
		}
		for i := 0; i+len(tr) <= len(folded); {
			if slices.Equal(folded[i:i+len(tr)], tr) {
				matches = append(matches, [2]int{i, i + len(tr)})
				i += len(tr)
			} else {
				i++
			}
		}
	}
	slices.SortFunc(matches, func(a, b [2]int) int { return cmp.Or(a[0]-b[0], b[1]-a[1]) })
	start, end := 0, len(runes)
	if len(runes) > SnippetMax {
		first := 0
		if len(matches) > 0 {
			first = matches[0][0]
		}
		start = max(0, first-SnippetMax/4)
		end = min(len(runes), start+SnippetMax)
		start = max(0, end-SnippetMax)
	}
	var b strings.Builder
	shift := start
	if start > 0 {
		b.WriteString("…")
		shift--
	}
	b.WriteString(string(runes[start:end]))
	if end < len(runes) {
		b.WriteString("…")
	}
	var out [][2]int
	last := -1
	for _, m := range matches {
		if m[0] < start || m[1] > end || m[0] < last {
			continue // outside the snippet, or overlapping the one before
		}
		out = append(out, [2]int{m[0] - shift, m[1] - shift})
		last = m[1]
	}
	if out == nil {
		out = [][2]int{}
	}
	return b.String(), out
}
