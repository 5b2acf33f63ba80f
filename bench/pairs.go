package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// PairsConfig sets up the pairs scenario: many direct conversations, both
// people sending.
type PairsConfig struct {
	Pairs    int           // direct conversations (default 1000)
	Rates    []float64     // messages per second of each person; one run per rate (default 5)
	Duration time.Duration // sending time of each run (default 20 s)
	Drain    time.Duration // longest wait for replies and deliveries (default 15 s)
	Size     int           // characters of message text (default 100)
}

func (c *PairsConfig) defaults() {
	if c.Pairs <= 0 {
		c.Pairs = 1000
	}
	if len(c.Rates) == 0 {
		c.Rates = []float64{5}
	}
	if c.Duration <= 0 {
		c.Duration = 20 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 15 * time.Second
	}
	if c.Size <= 0 {
		c.Size = 100
	}
}

// Pairs runs the pairs scenario once per rate.
func Pairs(ctx context.Context, t Target, cfg PairsConfig) ([]*Result, error) {
	cfg.defaults()
	e := newEnv(t)
	defer e.close()
	e.logf("pairs: setting up %d direct conversations (run %s)", cfg.Pairs, e.run)
	users, err := e.users(ctx, "p", 2*cfg.Pairs)
	if err != nil {
		return nil, err
	}
	convs := make([]int64, cfg.Pairs)
	err = e.parallel(ctx, cfg.Pairs, func(ctx context.Context, i int) error {
		c, _, err := users[2*i].c.Direct(ctx, users[2*i+1].Username)
		if err != nil {
			return fmt.Errorf("direct: %w", err)
		}
		convs[i] = c.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	tokens := make([]string, len(users))
	for i, u := range users {
		tokens[i] = u.c.Token()
	}
	conns, err := e.connectAll(ctx, e.connectors(), tokens, 64, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	e.logf("pairs: %d people connected", len(conns))

	var results []*Result
	for i, rate := range cfg.Rates {
		last := make([]int64, cfg.Pairs)
		err := e.parallel(ctx, cfg.Pairs, func(ctx context.Context, k int) error {
			c, err := users[2*k].c.Conversation(ctx, convs[k])
			last[k] = c.LastSeq
			return err
		})
		if err != nil {
			return results, err
		}
		streams := make([]stream, len(conns))
		for j := range streams {
			streams[j] = stream{conn: conns[j], convID: convs[j/2], rate: rate}
		}
		r := &Result{Scenario: "pairs", Started: time.Now()}
		r.param("pairs", cfg.Pairs, "")
		r.param("rate per person", rate, "msg/s")
		r.param("total rate", rate*float64(len(conns)), "msg/s")
		r.param("duration", cfg.Duration.Seconds(), "s")
		r.param("text size", cfg.Size, "chars")
		tag := fmt.Sprintf("%s%d", e.run, i)
		e.logf("pairs: %g msg/s per person for %s", rate, cfg.Duration)
		tr := e.drive(ctx, conns, streams, 2, cfg.Duration, cfg.Drain, tag, padding(cfg.Size))
		var stored atomic.Int64
		err = e.parallel(ctx, cfg.Pairs, func(ctx context.Context, k int) error {
			n, err := countStored(ctx, users[2*k].c, convs[k], last[k], textMark(tag))
			stored.Add(int64(n))
			return err
		})
		if err != nil {
			return results, fmt.Errorf("count stored messages: %w", err)
		}
		tr.report(r, stored.Load())
		r.note("both people of each pair are lean WebSocket readers (frames scanned, not decoded), not the full Go client")
		r.note("latency: from the sender writing the send to each connection of the conversation reading the event (the sender's own included)")
		if t.Hash != "" {
			r.note("sign-ups hashed with %s", t.Hash)
		}
		results = append(results, r)
		if err := ctx.Err(); err != nil {
			return results, err
		}
	}
	return results, nil
}
