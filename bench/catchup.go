package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/client"
)

// CatchupConfig sets up the catchup scenario: one person misses Messages
// messages spread over Conversations direct conversations, then reconnects.
type CatchupConfig struct {
	Messages      int // missed messages (default 10,000)
	Conversations int // direct conversations they are spread over (default 50)
	Size          int // characters of message text (default 100)
}

func (c *CatchupConfig) defaults() {
	if c.Messages <= 0 {
		c.Messages = 10000
	}
	if c.Conversations <= 0 {
		c.Conversations = 50
	}
	if c.Size <= 0 {
		c.Size = 100
	}
}

// Catchup measures how long a reconnecting client (the full Go client)
// takes to sync what it missed, and how long the server alone takes to
// answer that sync (read by a bare WebSocket reader).
func Catchup(ctx context.Context, t Target, cfg CatchupConfig) (*Result, error) {
	cfg.defaults()
	e := newEnv(t)
	defer e.close()
	e.logf("catchup: setting up 1 reader and %d peers (run %s)", cfg.Conversations, e.run)
	users, err := e.users(ctx, "k", cfg.Conversations+1)
	if err != nil {
		return nil, err
	}
	me, peers := users[0], users[1:]
	convs := make([]int64, len(peers))
	err = e.parallel(ctx, len(peers), func(ctx context.Context, i int) error {
		c, _, err := peers[i].c.Direct(ctx, me.Username)
		convs[i] = c.ID
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("direct: %w", err)
	}

	// Connect once, to hold a cursor for every conversation, and leave.
	var got atomic.Int64
	tag := e.run + "c"
	h := client.Handler{OnMessage: func(m parley.Message, change string) {
		if change == client.ChangeNew && strings.HasPrefix(m.Text, tag+" ") {
			got.Add(1)
		}
	}}
	rt, err := me.c.Connect(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("first connect: %w", err)
	}
	cursors := rt.Cursors()
	rt.Close()
	if len(cursors) != len(convs) {
		return nil, fmt.Errorf("first sync gave cursors for %d of %d conversations", len(cursors), len(convs))
	}

	// The peers send what the reader misses.
	e.logf("catchup: peers send %d messages", cfg.Messages)
	pad := padding(cfg.Size)
	var sent atomic.Int64
	start := time.Now()
	err = e.parallel(ctx, cfg.Messages, func(ctx context.Context, i int) error {
		k := i % len(peers)
		text := tag + " " + strconv.Itoa(i) + " " + pad
		if _, _, err := peers[k].c.Send(ctx, convs[k], fmt.Sprintf("%s-%d", tag, i), text); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		sent.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sendTook := time.Since(start)

	r := &Result{Scenario: "catchup", Started: time.Now()}
	r.param("missed messages", cfg.Messages, "")
	r.param("conversations", cfg.Conversations, "")
	r.param("text size", cfg.Size, "chars")
	r.fig("sent (REST)", sent.Load(), "")
	r.fig("REST sends/s", round(float64(sent.Load())/sendTook.Seconds(), 0), "")

	// The server alone: a bare reader sends the sync and reads to its reply.
	e.waitQuiet(ctx)
	raw, rawBytes, err := rawSync(ctx, e.URL, me.c.Token(), cursors)
	if err != nil {
		return nil, fmt.Errorf("raw sync: %w", err)
	}
	r.fig("server sync (bare reader)", ms(raw), "ms")
	r.fig("sync bytes", rawBytes, "")

	// The full client reconnects from its cursors.
	e.logf("catchup: reconnecting")
	allIn := make(chan struct{})
	var once sync.Once
	want := int64(cfg.Messages)
	h.OnMessage = func(m parley.Message, change string) {
		if change == client.ChangeNew && strings.HasPrefix(m.Text, tag+" ") {
			if got.Add(1) == want {
				once.Do(func() { close(allIn) })
			}
		}
	}
	e.waitQuiet(ctx)
	srv := watchProc(e.PID, 200*time.Millisecond)
	self := watchProc(os.Getpid(), 200*time.Millisecond)
	mach := watchMachine()
	start = time.Now()
	rt, err = me.c.Connect(ctx, h, client.WithCursors(cursors))
	if err != nil {
		return nil, fmt.Errorf("reconnect: %w", err)
	}
	synced := time.Since(start)
	var all time.Duration
	select {
	case <-allIn:
		all = time.Since(start)
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	use, selfUse := srv.end(), self.end()
	busy, ok := mach.busyPercent()
	rt.Close()
	r.fig("client synced", ms(synced), "ms")
	r.fig("messages received", got.Load(), "")
	if all > 0 {
		r.fig("all messages received", ms(all), "ms")
		r.fig("messages/s", round(float64(want)/all.Seconds(), 0), "")
	}
	r.usage(use)
	if selfUse.ok {
		r.fig("bench CPU", round(selfUse.cpuPct, 1), "%")
	}
	if ok {
		r.machine(busy, use, selfUse)
	}

	var stored atomic.Int64
	err = e.parallel(ctx, len(convs), func(ctx context.Context, i int) error {
		n, err := countStored(ctx, me.c, convs[i], cursors[convs[i]].Seq, tag+" ")
		stored.Add(int64(n))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count stored: %w", err)
	}
	r.fig("stored", stored.Load(), "")

	r.Complete = true
	if got.Load() != want {
		r.Complete = false
		r.problem("the client received %d of %d missed messages", got.Load(), want)
	}
	if stored.Load() != want {
		r.Complete = false
		r.problem("history holds %d of %d messages sent", stored.Load(), want)
	}
	r.note("client synced: from Connect (dial, hello, sync with cursors, paging) until the full Go client is live; all messages received: until its handler has every missed message")
	r.note("server sync: a bare WebSocket reader sends the same sync and reads up to its reply")
	return r, nil
}

// rawSync sends one sync with cursors over a bare WebSocket and returns the
// time until its reply, and the bytes read.
func rawSync(ctx context.Context, base, token string, cursors map[int64]client.Cursor) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	d := newDialer("")
	ws, _, err := websocket.Dial(ctx, wsURL(base), &websocket.DialOptions{
		HTTPClient: d.hc, HTTPHeader: map[string][]string{"Authorization": {"Bearer " + token}}})
	if err != nil {
		return 0, 0, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(64 << 20)
	var req bytes.Buffer
	req.WriteString(`{"op":"sync","id":"s","cursors":{`)
	first := true
	for id, c := range cursors {
		if !first {
			req.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&req, `"%d":{"seq":%d,"mod":%d}`, id, c.Seq, c.Mod)
	}
	req.WriteString(`}}`)
	start := time.Now()
	if err := ws.Write(ctx, websocket.MessageText, req.Bytes()); err != nil {
		return 0, 0, err
	}
	n := 0
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return 0, n, err
		}
		n += len(data)
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			if bytes.HasPrefix(line, []byte(`{"re":"s"`)) {
				if !bytes.Contains(line, []byte(`"ok":true`)) {
					return 0, n, fmt.Errorf("sync refused: %s", line)
				}
				return time.Since(start), n, nil
			}
		}
	}
}
