package storetest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"parley"
)

// search runs a query as ParseSearch reads it and returns the texts
// found, in order, with the page's cursor.
func search(t *testing.T, s parley.Store, q parley.SearchQuery, query string) ([]string, int64) {
	t.Helper()
	terms, err := parley.ParseSearch(query)
	if err != nil {
		t.Fatalf("ParseSearch(%q): %v", query, err)
	}
	q.Terms = terms
	page, err := s.SearchMessages(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchMessages(%q): %v", query, err)
	}
	texts := []string{}
	for i, m := range page.Messages {
		if m.Kind != parley.MessageText || m.DeletedAt != nil || m.Sender == nil {
			t.Fatalf("SearchMessages(%q): found %+v", query, m)
		}
		if i > 0 && m.ID >= page.Messages[i-1].ID {
			t.Fatalf("SearchMessages(%q): not newest first: id %d after %d", query, m.ID, page.Messages[i-1].ID)
		}
		texts = append(texts, m.Text)
	}
	return texts, page.Next
}

func wantFound(t *testing.T, s parley.Store, q parley.SearchQuery, query string, want ...string) {
	t.Helper()
	got, _ := search(t, s, q, query)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("search %q found %q, want %q", query, got, want)
	}
}

// Matching: case, accents, any script, inside words, phrases, several
// terms, short terms, and characters that mean something to the engines.
func testSearchText(t *testing.T, s parley.Store) {
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	for i, text := range []string{
		"Hello World from the club",           // 0
		"the CAFÉ opens at nine",              // 1
		"東京タワーに行きました",                         // 2
		"Привет, как дела?",                   // 3
		"messages and messengers",             // 4
		"a 100% sure thing",                   // 5
		"under_score and \"quotes\" AND NEAR", // 6
		"ok then",                             // 7
		"東京は大きい",                              // 8
		"world hello",                         // 9
	} {
		MustSendAt(t, s, g.ID, bob, text, at(i))
	}
	q := parley.SearchQuery{UserID: alice.ID}
	wantFound(t, s, q, "hello", "world hello", "Hello World from the club")
	wantFound(t, s, q, "HELLO world", "world hello", "Hello World from the club")
	wantFound(t, s, q, `"hello world"`, "Hello World from the club")
	wantFound(t, s, q, `"world hello"`, "world hello")
	wantFound(t, s, q, "café", "the CAFÉ opens at nine")
	wantFound(t, s, q, "Café", "the CAFÉ opens at nine")
	wantFound(t, s, q, "cafe") // accents matter
	wantFound(t, s, q, "ПРИВЕТ", "Привет, как дела?")
	wantFound(t, s, q, "タワー", "東京タワーに行きました")
	wantFound(t, s, q, "東京", "東京は大きい", "東京タワーに行きました")
	wantFound(t, s, q, "東京 大き", "東京は大きい")
	wantFound(t, s, q, "messeng", "messages and messengers")
	wantFound(t, s, q, "mess*", "messages and messengers")
	wantFound(t, s, q, "sengers", "messages and messengers")
	wantFound(t, s, q, "100%", "a 100% sure thing")
	wantFound(t, s, q, "10%")
	wantFound(t, s, q, "00% s", "a 100% sure thing")
	wantFound(t, s, q, "e_s")
	wantFound(t, s, q, "r_sc", "under_score and \"quotes\" AND NEAR")
	wantFound(t, s, q, `quotes" NEAR`, "under_score and \"quotes\" AND NEAR")
	wantFound(t, s, q, "and near", "under_score and \"quotes\" AND NEAR")
	wantFound(t, s, q, "OR", "world hello", "under_score and \"quotes\" AND NEAR", "Hello World from the club")
	wantFound(t, s, q, "ok", "ok then")
	wantFound(t, s, q, "ok hen", "ok then")
	wantFound(t, s, q, "hello nothing")
}

// Only current members find a conversation's messages.
func testSearchMembers(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	carol := MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob)
	d := MustDirect(t, s, alice, carol)
	MustSendAt(t, s, g.ID, alice, "secret plan in the club", at(1))
	MustSendAt(t, s, d.ID, carol, "secret plan for alice", at(2))

	wantFound(t, s, parley.SearchQuery{UserID: alice.ID}, "secret plan", "secret plan for alice", "secret plan in the club")
	wantFound(t, s, parley.SearchQuery{UserID: bob.ID}, "secret plan", "secret plan in the club")
	wantFound(t, s, parley.SearchQuery{UserID: carol.ID}, "secret plan", "secret plan for alice")
	wantFound(t, s, parley.SearchQuery{UserID: carol.ID, ConversationID: g.ID}, "secret")
	wantFound(t, s, parley.SearchQuery{UserID: carol.ID, ConversationID: g.ID}, "se")

	_, err := s.RemoveMember(ctx, g.ID, bob.ID, alice.ID, at(3))
	ok(t, err, "RemoveMember")
	wantFound(t, s, parley.SearchQuery{UserID: bob.ID}, "secret plan")
	wantFound(t, s, parley.SearchQuery{UserID: bob.ID, ConversationID: g.ID}, "secret plan")
	wantFound(t, s, parley.SearchQuery{UserID: bob.ID}, "pl")
}

// Edits replace the text found; deleted messages are never found.
func testSearchChanges(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	m1 := MustSendAt(t, s, g.ID, alice, "meet at the old mill", at(1))
	m2 := MustSendAt(t, s, g.ID, alice, "bring the old map", at(2))
	q := parley.SearchQuery{UserID: bob.ID}
	wantFound(t, s, q, "old", "bring the old map", "meet at the old mill")

	_, err := s.EditMessage(ctx, g.ID, m1.Seq, alice.ID, "meet at the new bridge", nil, at(3))
	ok(t, err, "EditMessage")
	wantFound(t, s, q, "old", "bring the old map")
	wantFound(t, s, q, "mill")
	wantFound(t, s, q, "bridge", "meet at the new bridge")
	wantFound(t, s, q, "mi")

	_, err = s.DeleteMessage(ctx, g.ID, m2.Seq, alice.ID, false, at(4))
	ok(t, err, "DeleteMessage")
	wantFound(t, s, q, "old")
	wantFound(t, s, q, "map")
	wantFound(t, s, q, "ma")
	wantFound(t, s, q, "meet", "meet at the new bridge")

	// Edited again, then deleted: nothing of it is left.
	_, err = s.EditMessage(ctx, g.ID, m1.Seq, alice.ID, "meet at the tower", nil, at(5))
	ok(t, err, "EditMessage")
	wantFound(t, s, q, "bridge")
	wantFound(t, s, q, "tower", "meet at the tower")
	_, err = s.DeleteMessage(ctx, g.ID, m1.Seq, alice.ID, false, at(6))
	ok(t, err, "DeleteMessage")
	wantFound(t, s, q, "meet")
	wantFound(t, s, q, "to")
}

// Filters: conversation, sender, time.
func testSearchFilters(t *testing.T, s parley.Store) {
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	d := MustDirect(t, s, alice, bob)
	MustSendAt(t, s, g.ID, alice, "lunch one", at(1))
	MustSendAt(t, s, g.ID, bob, "lunch two", at(2))
	MustSendAt(t, s, d.ID, alice, "lunch three", at(3))
	MustSendAt(t, s, d.ID, bob, "lunch four", at(4))

	wantFound(t, s, parley.SearchQuery{UserID: alice.ID}, "lunch", "lunch four", "lunch three", "lunch two", "lunch one")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, ConversationID: g.ID}, "lunch", "lunch two", "lunch one")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, SenderID: bob.ID}, "lunch", "lunch four", "lunch two")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, ConversationID: d.ID, SenderID: bob.ID}, "lunch", "lunch four")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, After: at(2)}, "lunch", "lunch four", "lunch three", "lunch two")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, Before: at(2)}, "lunch", "lunch one")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, After: at(2), Before: at(4)}, "lunch", "lunch three", "lunch two")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, After: at(2), Before: at(4)}, "lu", "lunch three", "lunch two")
	wantFound(t, s, parley.SearchQuery{UserID: alice.ID, HasAttachment: true}, "lunch")
}

// Pages follow the cursor, newest first, each message once.
func testSearchPaging(t *testing.T, s parley.Store) {
	alice := MustUser(t, s, "alice")
	bob := MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob)
	var all []string
	for i := range 7 {
		text := "tea number " + string(rune('a'+i))
		MustSendAt(t, s, g.ID, bob, text, at(i))
		MustSendAt(t, s, g.ID, alice, "coffee", at(i).Add(time.Second))
		all = append([]string{text}, all...)
	}
	for _, query := range []string{"tea", "te"} {
		var got []string
		q := parley.SearchQuery{UserID: alice.ID, Limit: 3}
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatalf("search %q: more than 3 pages", query)
			}
			texts, next := search(t, s, q, query)
			got = append(got, texts...)
			if next == 0 {
				break
			}
			q.BeforeID = next
		}
		if !slices.Equal(got, all) {
			t.Errorf("search %q page by page found %q, want %q", query, got, all)
		}
	}
	_, err := s.SearchMessages(context.Background(), parley.SearchQuery{UserID: alice.ID})
	wantCode(t, err, parley.EINVALID, "SearchMessages without terms")
}

// SearchPlans checks that each way a store may answer a search gives the
// same pages. plans switch the store to one of its ways (a package
// variable of the store, set for the test); SearchPlans seeds s with
// messages in conversations of different sizes, some the searching user is
// a member of and some not, with common, rare and short words, edits and
// deletions, then pages through a set of queries under each plan and
// compares every page with the first plan's, and all pages together with
// the matches it computes itself.
func SearchPlans(t *testing.T, s parley.Store, plans map[string]func()) {
	ctx := context.Background()
	me := MustUser(t, s, "seeker")
	other := MustUser(t, s, "other")
	type sent struct {
		id, conv, seq int64
		sender        int64
		text          string
	}
	var (
		convs []int64
		mine  = map[int64]bool{}
	)
	for i, size := range []int{300, 40, 5, 200, 120, 1} {
		var g parley.Conversation
		if i%3 == 2 {
			g = MustGroup(t, s, fmt.Sprint("G", i), other)
		} else {
			g = MustGroup(t, s, fmt.Sprint("G", i), other, me)
			mine[g.ID] = true
		}
		for range size {
			convs = append(convs, g.ID)
		}
	}
	words := []string{"tea", "time", "the", "green", "ok", "東京", "タワー", "plan", "zebra"}
	var all []sent
	for i, c := range convs {
		// Deterministic, spread over the conversations in turn.
		c = convs[(i*7)%len(convs)]
		w := []string{words[i%3], words[(i/3)%len(words)]}
		if i%11 == 0 {
			w = append(w, "green", "tea")
		}
		if i%97 == 5 {
			w = append(w, "zebra")
		}
		if i%5 == 0 {
			w = append(w, "東京タワー")
		}
		sender := other
		if i%4 == 0 && mine[c] {
			sender = me
		}
		text := strings.Join(w, " ")
		m := MustSendAt(t, s, c, sender, text, at(i))
		all = append(all, sent{m.ID, c, m.Seq, sender.ID, text})
	}
	// Edits and deletions: the old text is not found.
	for i := 3; i < len(all); i += 37 {
		m := all[i]
		if i%2 == 0 {
			_, err := s.DeleteMessage(ctx, m.conv, m.seq, m.sender, false, at(len(all)+i))
			ok(t, err, "DeleteMessage")
			all[i].text = ""
		} else {
			_, err := s.EditMessage(ctx, m.conv, m.seq, m.sender, "edited tea", nil, at(len(all)+i))
			ok(t, err, "EditMessage")
			all[i].text = "edited tea"
		}
	}
	queries := []struct {
		query string
		q     parley.SearchQuery
	}{
		{"tea", parley.SearchQuery{}},
		{"tea", parley.SearchQuery{Limit: 50}},
		{`"green tea"`, parley.SearchQuery{}},
		{"tea time", parley.SearchQuery{}},
		{"zebra", parley.SearchQuery{}},
		{"東京タワー", parley.SearchQuery{}},
		{"東京", parley.SearchQuery{}},
		{"ok", parley.SearchQuery{}},
		{"te", parley.SearchQuery{SenderID: me.ID}},
		{"nothing", parley.SearchQuery{}},
		{"tea", parley.SearchQuery{ConversationID: convs[0]}},
		{"the", parley.SearchQuery{ConversationID: convs[len(convs)-300]}},
		{"tea", parley.SearchQuery{SenderID: me.ID}},
		{"plan", parley.SearchQuery{After: at(100), Before: at(500)}},
	}
	type page struct {
		ids  []int64
		next int64
	}
	names := slices.Sorted(maps.Keys(plans))
	for _, qq := range queries {
		terms, err := parley.ParseSearch(qq.query)
		ok(t, err, "ParseSearch")
		var want []int64
		for i := len(all) - 1; i >= 0; i-- {
			m := all[i]
			hit := m.text != "" && mine[m.conv] && (qq.q.ConversationID == 0 || m.conv == qq.q.ConversationID) &&
				(qq.q.SenderID == 0 || m.sender == qq.q.SenderID) &&
				(qq.q.After.IsZero() || !at(i).Before(qq.q.After)) && (qq.q.Before.IsZero() || at(i).Before(qq.q.Before))
			for _, term := range terms {
				hit = hit && strings.Contains(parley.FoldSearch(m.text), term)
			}
			if hit {
				want = append(want, m.id)
			}
		}
		var first []page
		for _, name := range names {
			plans[name]()
			var (
				pages []page
				got   []int64
			)
			q := qq.q
			q.UserID, q.Terms, q.Limit = me.ID, terms, cmp.Or(qq.q.Limit, 7)
			for len(pages) <= len(all) {
				res, err := s.SearchMessages(ctx, q)
				ok(t, err, "SearchMessages")
				p := page{next: res.Next}
				for _, m := range res.Messages {
					p.ids = append(p.ids, m.ID)
				}
				pages = append(pages, p)
				got = append(got, p.ids...)
				if res.Next == 0 {
					break
				}
				q.BeforeID = res.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("plan %s, search %q %+v: found %v, want %v", name, qq.query, qq.q, got, want)
			}
			if first == nil {
				first = pages
			} else if !slices.EqualFunc(pages, first, func(a, b page) bool { return a.next == b.next && slices.Equal(a.ids, b.ids) }) {
				t.Errorf("search %q %+v: plan %s paged %v, plan %s %v", qq.query, qq.q, name, pages, names[0], first)
			}
		}
	}
}
