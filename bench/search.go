package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley"
)

// SearchConfig sizes the search scenario.
type SearchConfig struct {
	// Messages over Conversations groups; the searching user is a member
	// of MemberOf of them.
	Messages, Conversations, MemberOf int
	// Queries is how many searches of each kind are timed.
	Queries int
	// InFlight is how many appends the seeding keeps waiting (the stores
	// commit waiting appends together).
	InFlight int
	// Log gets progress lines; nil: none.
	Log io.Writer
	// WaitIdle, when not zero, waits up to this long for a quiet machine
	// before timing.
	WaitIdle time.Duration
	// AfterSeed, when not nil, runs after seeding, before timing (for
	// PostgreSQL: ANALYZE, which a bulk load leaves to autovacuum).
	AfterSeed func(context.Context) error
}

// searchUser is the searching user's name; its presence says the store is
// seeded already.
const searchUser = "searcher"

var (
	// Common words: each in about one message in eight.
	commonWords = []string{"hello", "meeting", "tomorrow", "thanks", "project", "lunch", "weekend", "review"}
	// Filler words, never searched.
	fillerWords = strings.Fields(`the a to and of in is it you that we for on with this be are at have not but
		can will just so get do was about what all there if out up when one time would like some could them
		see other than then now look only come its over think also back after use two how our work first well way
		even new want because any these give day most us plan call note send check later soon ready fine sure`)
	// Rare words: each in about one message in 100,000.
	rareWords = []string{"quokka", "xylophone", "zeppelin", "marzipan", "kumquat", "obsidian", "tamarind", "quasar"}
	// CJK: a fifth of the messages are Japanese or Chinese, drawn from these.
	cjkPhrases = []string{"東京タワー", "会議室", "明日の予定", "ありがとう", "お疲れ様です", "北京", "上海の天気", "新しい計画",
		"週末に会いましょう", "確認します", "大丈夫です", "電車が遅れています", "昼ご飯", "資料を送ります"}
)

// searchQueries are the queries timed, by kind.
var searchQueries = []struct {
	kind    string
	queries []string
}{
	{"common word", commonWords},
	{"rare word", rareWords},
	{"CJK 3+ chars", []string{"会議室", "ありが", "東京タ", "上海の天", "電車が"}},
	{"CJK 2 chars (scan)", []string{"東京", "北京", "予定", "天気", "資料"}},
	{"phrase", []string{`"see you tomorrow"`, `"lunch on the weekend"`, `"review the project"`, `"thanks for the meeting"`}},
}

func searchText(r *rand.Rand) string {
	if r.IntN(5) == 0 {
		n := 1 + r.IntN(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = cjkPhrases[r.IntN(len(cjkPhrases))]
		}
		return strings.Join(parts, "、") + "。"
	}
	n := 6 + r.IntN(14)
	words := make([]string, 0, n+3)
	for range n {
		words = append(words, fillerWords[r.IntN(len(fillerWords))])
	}
	if r.IntN(8) == 0 {
		words[r.IntN(len(words))] = commonWords[r.IntN(len(commonWords))]
	}
	if r.IntN(100_000) == 0 {
		words[r.IntN(len(words))] = rareWords[r.IntN(len(rareWords))]
	}
	switch r.IntN(40) {
	case 0:
		words = append(words, "see", "you", "tomorrow")
	case 1:
		words = append(words, "lunch", "on", "the", "weekend")
	case 2:
		words = append(words, "review", "the", "project")
	case 3:
		words = append(words, "thanks", "for", "the", "meeting")
	}
	return strings.Join(words, " ")
}

// Search seeds s (unless it holds the searching user already) and times
// searches of the searching user: the store's SearchMessages, first pages
// of parley.SearchLimitDefault, in process (no HTTP).
func Search(ctx context.Context, s parley.Store, cfg SearchConfig) (*Result, error) {
	res := &Result{Scenario: "search", Started: time.Now()}
	res.param("messages", cfg.Messages, "")
	res.param("conversations", cfg.Conversations, "")
	res.param("searcher member of", cfg.MemberOf, "")
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	me, err := s.UserByUsername(ctx, searchUser)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		start := time.Now()
		if me, err = seedSearch(ctx, s, cfg, logf); err != nil {
			return res, err
		}
		took := time.Since(start)
		res.fig("seeding", round(took.Seconds(), 1), "s")
		res.fig("seeding rate", round(float64(cfg.Messages)/took.Seconds(), 0), "messages/s")
		if cfg.AfterSeed != nil {
			if err := cfg.AfterSeed(ctx); err != nil {
				return res, err
			}
		}
	} else if err != nil {
		return res, err
	} else {
		res.note("the store was seeded before; seeding not timed")
	}
	if cfg.WaitIdle > 0 {
		if waited := WaitQuiet(30, cfg.WaitIdle, ctx.Done()); waited >= cfg.WaitIdle {
			res.note("the machine stayed busy for %s (--wait-idle); timed anyway", cfg.WaitIdle)
		}
	}
	mw := watchMachine()
	for _, kind := range searchQueries {
		h := new(Hist)
		found := 0
		for i := range cfg.Queries {
			q := kind.queries[i%len(kind.queries)]
			terms, err := parley.ParseSearch(q)
			if err != nil {
				return res, err
			}
			t0 := time.Now()
			page, err := s.SearchMessages(ctx, parley.SearchQuery{UserID: me.ID, Terms: terms})
			if err != nil {
				return res, fmt.Errorf("search %q: %w", q, err)
			}
			h.Add(time.Since(t0))
			found += len(page.Messages)
		}
		res.fig(kind.kind+" p50", ms(h.Quantile(0.50)), "ms")
		res.fig(kind.kind+" p95", ms(h.Quantile(0.95)), "ms")
		res.fig(kind.kind+" max", ms(h.Max()), "ms")
		res.fig(kind.kind+" results per page", round(float64(found)/float64(cfg.Queries), 1), "")
	}
	if busy, ok := mw.busyPercent(); ok {
		res.fig("machine CPU while timing", round(busy, 1), "% of a core")
	}
	res.note("each search: the store's SearchMessages in process, a first page of %d, %d per kind, one at a time", parley.SearchLimitDefault, cfg.Queries)
	res.Complete = true
	return res, nil
}

// seedSearch creates the users, groups and messages.
func seedSearch(ctx context.Context, s parley.Store, cfg SearchConfig, logf func(string, ...any)) (parley.User, error) {
	now := time.Now()
	owners := make([]parley.User, cfg.Conversations)
	groups := make([]parley.Conversation, cfg.Conversations)
	run := runID()
	for i := range owners {
		owners[i] = parley.User{Username: fmt.Sprintf("owner%d-%s", i, run)}
		if err := s.CreateUser(ctx, &owners[i], "x"); err != nil {
			return parley.User{}, err
		}
		g, _, err := s.CreateGroup(ctx, fmt.Sprintf("Group %d", i), fmt.Sprintf("g%d-%s", i, run), owners[i].ID, now)
		if err != nil {
			return parley.User{}, err
		}
		groups[i] = g
	}
	me := parley.User{Username: searchUser}
	if err := s.CreateUser(ctx, &me, "x"); err != nil {
		return parley.User{}, err
	}
	step := max(1, cfg.Conversations/max(1, cfg.MemberOf))
	for i := 0; i < cfg.Conversations && i/step < cfg.MemberOf; i += step {
		if _, _, _, err := s.AddMember(ctx, groups[i].ID, me.ID, 1000, now); err != nil {
			return parley.User{}, err
		}
	}
	logf("search: seeding %d messages over %d conversations", cfg.Messages, cfg.Conversations)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		failed  error
	)
	start := now.Add(-time.Duration(cfg.Messages) * time.Second)
	for w := range max(1, cfg.InFlight) {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for {
				i := next.Add(1) - 1
				if i >= int64(cfg.Messages) || ctx.Err() != nil {
					return
				}
				c := int(i) % cfg.Conversations
				_, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: groups[c].ID, SenderID: owners[c].ID,
					ClientMsgID: fmt.Sprint("m", i), Kind: parley.MessageText, Text: searchText(r),
					CreatedAt: start.Add(time.Duration(i) * time.Second)})
				if err != nil {
					errOnce.Do(func() { failed = err })
					return
				}
				if (i+1)%100_000 == 0 {
					logf("search: %d messages", i+1)
				}
			}
		})
	}
	wg.Wait()
	if failed != nil {
		return parley.User{}, failed
	}
	return me, ctx.Err()
}
