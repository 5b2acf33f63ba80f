package bench

import (
	"context"
	"fmt"
	"math"
	"time"
)

// FanoutConfig sets up the fanout scenario: one group, every member
// connected, a few members sending at a fixed total rate.
type FanoutConfig struct {
	Members  int           // members, each with one connection (default 1000)
	Senders  int           // sending connections, among the members (default: rate/25, at least 10)
	Rates    []float64     // total messages per second; one run per rate (default 500)
	Duration time.Duration // sending time of each run (default 20 s)
	Drain    time.Duration // longest wait for replies and deliveries after sending (default 15 s)
	Size     int           // characters of message text (default 100)
}

func (c *FanoutConfig) defaults() {
	if c.Members <= 0 {
		c.Members = 1000
	}
	if len(c.Rates) == 0 {
		c.Rates = []float64{500}
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

// Fanout runs the fanout scenario once per rate, on one set of users and
// connections.
func Fanout(ctx context.Context, t Target, cfg FanoutConfig) ([]*Result, error) {
	cfg.defaults()
	e := newEnv(t)
	defer e.close()
	if cfg.Members < 2 {
		return nil, fmt.Errorf("fanout needs at least 2 members")
	}
	e.logf("fanout: setting up %d members (run %s)", cfg.Members, e.run)
	users, err := e.users(ctx, "m", cfg.Members)
	if err != nil {
		return nil, err
	}
	owner := users[0]
	g, err := owner.c.CreateGroup(ctx, "bench "+e.run, "")
	if err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	err = e.parallel(ctx, len(users)-1, func(ctx context.Context, i int) error {
		if _, _, err := users[i+1].c.JoinGroup(ctx, g.Code); err != nil {
			return fmt.Errorf("join group: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tokens := make([]string, len(users))
	for i, u := range users {
		tokens[i] = u.c.Token()
	}
	cn := e.connectors()
	conns, err := e.connectAll(ctx, cn, tokens, 64, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	e.logf("fanout: %d members connected", len(conns))

	var results []*Result
	for i, rate := range cfg.Rates {
		senders := cfg.Senders
		if senders <= 0 {
			senders = max(10, int(math.Ceil(rate/25)))
		}
		senders = min(senders, len(conns))
		conv, err := owner.c.Conversation(ctx, g.ID)
		if err != nil {
			return results, err
		}
		streams := make([]stream, senders)
		for j := range streams {
			streams[j] = stream{conn: conns[j], convID: g.ID, rate: rate / float64(senders)}
		}
		r := &Result{Scenario: "fanout", Started: time.Now()}
		r.param("members", cfg.Members, "")
		r.param("senders", senders, "")
		r.param("rate", rate, "msg/s")
		r.param("duration", cfg.Duration.Seconds(), "s")
		r.param("text size", cfg.Size, "chars")
		tag := fmt.Sprintf("%s%d", e.run, i)
		e.logf("fanout: %g msg/s for %s", rate, cfg.Duration)
		tr := e.drive(ctx, conns, streams, len(conns), cfg.Duration, cfg.Drain, tag, padding(cfg.Size))
		stored, err := countStored(ctx, owner.c, g.ID, conv.LastSeq, textMark(tag))
		if err != nil {
			return results, fmt.Errorf("count stored messages: %w", err)
		}
		tr.report(r, int64(stored))
		r.note("receivers are lean WebSocket readers (frames scanned for the run's tag, not decoded), not the full Go client")
		r.note("latency: from the sender writing the send to each member's connection reading the event (the sender's own connection included)")
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
