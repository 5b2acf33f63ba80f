package clustertest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/client"
	"parley/servertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := noLeftovers(10 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if buildOnce.dir != "" {
		os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

// leftoverMarkers name the goroutines that must all have ended once the
// tests are done: nodes, clients, proxies, drivers.
var leftoverMarkers = []string{"parley/", "parley.", "nats-io/", "jackc/", "coder/websocket", "net/http.(*persistConn)", "net/http.(*conn)"}

// noLeftovers waits until no goroutine runs the code of a node, a client,
// a proxy or a driver.
func noLeftovers(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := leftovers()
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutines left after the tests, e.g.:\n%s", len(left), left[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leftovers() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "TestMain") || strings.Contains(g, "leftovers") {
			continue
		}
		for _, m := range leftoverMarkers {
			if strings.Contains(g, m) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// ctxT returns a context that ends with the test or after d.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// httpClient makes one TCP connection per request, so that each request
// (and each WebSocket) goes through a balancer's round robin on its own,
// and no idle connection outlives the test.
func httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
}

// person is a user with a REST client on one URL (a node or a balancer)
// and, once connected, a realtime session recorded by rec.
type person struct {
	name string
	user parley.User
	c    *client.Client
	rt   *client.Realtime
	rec  *recorder
}

var nameSeq struct {
	sync.Mutex
	n int
}

// newPerson signs up a fresh user through baseURL and logs in.
func newPerson(t testing.TB, baseURL, prefix string) *person {
	t.Helper()
	nameSeq.Lock()
	nameSeq.n++
	name := fmt.Sprintf("%s%d", prefix, nameSeq.n)
	nameSeq.Unlock()
	c := client.New(baseURL, client.WithHTTPClient(httpClient()))
	ctx := ctxT(t, 20*time.Second)
	if _, err := c.Signup(ctx, name, name+"@example.com", "password-"+name); err != nil {
		t.Fatalf("signup %s: %v", name, err)
	}
	u, err := c.Login(ctx, name, "password-"+name)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return &person{name: name, user: u, c: c}
}

// device logs the person in again through baseURL: another session, as
// another device would have.
func (p *person) device(t testing.TB, baseURL string) *person {
	t.Helper()
	c := client.New(baseURL, client.WithHTTPClient(httpClient()))
	if _, err := c.Login(ctxT(t, 20*time.Second), p.name, "password-"+p.name); err != nil {
		t.Fatalf("login %s: %v", p.name, err)
	}
	return &person{name: p.name, user: p.user, c: c}
}

// connect opens the person's realtime session, closed with the test.
func (p *person) connect(t testing.TB, opts ...client.ConnectOption) *person {
	t.Helper()
	p.rec = newRecorder()
	opts = append([]client.ConnectOption{client.WithBackoff(20*time.Millisecond, 500*time.Millisecond)}, opts...)
	rt, err := p.c.Connect(ctxT(t, 20*time.Second), p.rec.handler(), opts...)
	if err != nil {
		t.Fatalf("%s connect: %v", p.name, err)
	}
	p.rt = rt
	t.Cleanup(func() { rt.Close() })
	return p
}

// node is the id of the node the person's session last connected to, from
// the connection id the node gave.
func (p *person) node() string {
	id, _, _ := strings.Cut(p.rt.ConnID(), "-")
	return id
}

// timed is something a session received, and when.
type timed[T any] struct {
	at time.Time
	v  T
}

// recorder keeps what a realtime session delivers and checks the client's
// order promise as it goes: per conversation, new messages come with
// consecutive seqs, each once.
type recorder struct {
	mu       sync.Mutex
	news     map[int64][]parley.Message
	changes  []parley.Message
	receipts []client.Receipt
	typing   []client.Typing
	presence []timed[client.Presence]
	states   []timed[client.State]
	faults   []string
	arrived  map[string]time.Time // by client_msg_id: when the message was delivered
}

func newRecorder() *recorder {
	return &recorder{news: make(map[int64][]parley.Message), arrived: make(map[string]time.Time)}
}

func (r *recorder) handler() client.Handler {
	return client.Handler{
		OnMessage: func(m parley.Message, change string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if change != client.ChangeNew {
				r.changes = append(r.changes, m)
				return
			}
			list := r.news[m.ConversationID]
			if n := len(list); n > 0 && m.Seq != list[n-1].Seq+1 {
				r.faults = append(r.faults, fmt.Sprintf("conversation %d: seq %d after %d", m.ConversationID, m.Seq, list[n-1].Seq))
			}
			r.news[m.ConversationID] = append(list, m)
			if m.ClientMsgID != "" {
				r.arrived[m.ClientMsgID] = time.Now()
			}
		},
		OnReceipt: func(x client.Receipt) { r.mu.Lock(); r.receipts = append(r.receipts, x); r.mu.Unlock() },
		OnTyping:  func(x client.Typing) { r.mu.Lock(); r.typing = append(r.typing, x); r.mu.Unlock() },
		OnPresence: func(x client.Presence) {
			r.mu.Lock()
			r.presence = append(r.presence, timed[client.Presence]{time.Now(), x})
			r.mu.Unlock()
		},
		OnState: func(s client.State, err error) {
			r.mu.Lock()
			r.states = append(r.states, timed[client.State]{time.Now(), s})
			r.mu.Unlock()
		},
	}
}

func (r *recorder) messages(conv int64) []parley.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.news[conv])
}

// arrivedAt says when the message with this client_msg_id was delivered.
func (r *recorder) arrivedAt(cmid string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.arrived[cmid]
	return at, ok
}

// reconnectedSince reports whether the session went reconnecting after t.
func (r *recorder) reconnectedSince(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.states {
		if s.v == client.StateReconnecting && s.at.After(t) {
			return true
		}
	}
	return false
}

func (r *recorder) hasText(conv int64, text string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.news[conv] {
		if m.Text == text {
			return true
		}
	}
	return false
}

func (r *recorder) hasChange(conv, seq int64, pred func(parley.Message) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.changes {
		if m.ConversationID == conv && m.Seq == seq && pred(m) {
			return true
		}
	}
	return false
}

func (r *recorder) hasReceipt(conv, user, delivered, read int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.receipts {
		if x.ConversationID == conv && x.UserID == user && x.DeliveredSeq >= delivered && x.ReadSeq >= read {
			return true
		}
	}
	return false
}

func (r *recorder) hasTyping(conv, user int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.typing {
		if x.ConversationID == conv && x.UserID == user && x.Active && x.ExpiresIn > 0 {
			return true
		}
	}
	return false
}

// lastPresence returns the last presence event about user at or after
// since, and when it came.
func (r *recorder) lastPresence(user int64, since time.Time) (client.Presence, time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.presence) - 1; i >= 0; i-- {
		p := r.presence[i]
		if p.at.Before(since) {
			break
		}
		if p.v.UserID == user {
			return p.v, p.at, true
		}
	}
	return client.Presence{}, time.Time{}, false
}

// presenceOf returns the presence events about user received after since.
func (r *recorder) presenceOf(user int64, since time.Time) []client.Presence {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []client.Presence
	for _, p := range r.presence {
		if p.v.UserID == user && !p.at.Before(since) {
			out = append(out, p.v)
		}
	}
	return out
}

func (r *recorder) check(t testing.TB, who string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.faults {
		t.Errorf("%s: %s", who, f)
	}
}

// history reads a conversation's whole history through REST.
func history(t testing.TB, c *client.Client, conv int64) []parley.Message {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	var all []parley.Message
	for {
		after := int64(0)
		if n := len(all); n > 0 {
			after = all[n-1].Seq
		}
		msgs, more, err := c.History(ctx, conv, parley.MessageQuery{AfterSeq: after, Limit: parley.PageSizeMax})
		if err != nil {
			t.Fatalf("history of %d: %v", conv, err)
		}
		all = append(all, msgs...)
		if !more || len(msgs) == 0 {
			return all
		}
	}
}

// ledger is what senders were told: for each client_msg_id acknowledged,
// the seq, and per sender the ids in the order they were sent.
type ledger struct {
	mu      sync.Mutex
	acked   map[string]int64
	ackedAt map[string]time.Time
	order   map[string][]string
	count   map[string]int
	errs    []error
	sender  map[string]string // client_msg_id → sender name
}

func newLedger() *ledger {
	return &ledger{acked: map[string]int64{}, ackedAt: map[string]time.Time{}, order: map[string][]string{}, count: map[string]int{}, sender: map[string]string{}}
}

func (l *ledger) ack(who, cmid string, seq int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[cmid] = seq
	l.ackedAt[cmid] = time.Now()
	l.order[who] = append(l.order[who], cmid)
	l.count[who]++
	l.sender[cmid] = who
}

func (l *ledger) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *ledger) acks(who string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[who]
}

// ackedBefore returns the client_msg_ids acknowledged before t.
func (l *ledger) ackedBefore(t time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for cmid, at := range l.ackedAt {
		if at.Before(t) {
			out = append(out, cmid)
		}
	}
	return out
}

// lags returns, for each acknowledged message p holds, how long after its
// acknowledgement it was delivered to p, and how many p lacks.
func (l *ledger) lags(p *person) (lags []time.Duration, missing int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for cmid, at := range l.ackedAt {
		got, ok := p.rec.arrivedAt(cmid)
		if !ok {
			missing++
			continue
		}
		lags = append(lags, max(got.Sub(at), 0))
	}
	slices.Sort(lags)
	return lags, missing
}

func (l *ledger) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// senders runs one goroutine per person that sends to conv over the
// person's realtime session, one message at a time (each waits for its
// acknowledgement), until stop is called; stop waits for the last sends
// to be acknowledged.
func senders(t testing.TB, people []*person, conv int64, l *ledger) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-quit:
					return
				default:
				}
				cmid := fmt.Sprintf("%s-%d", p.name, i)
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				m, err := p.rt.SendWithID(ctx, conv, cmid, cmid)
				cancel()
				if err != nil {
					l.fail(fmt.Errorf("%s: send %s: %w", p.name, cmid, err))
					return
				}
				l.ack(p.name, cmid, m.Seq)
			}
		}()
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}

// checkLedger checks the promises against a conversation's history: seq
// gap-free from 1, every acknowledged message there exactly once with the
// seq it was acknowledged with, no client_msg_id stored twice, and each
// sender's messages in the order sent.
func checkLedger(t testing.TB, hist []parley.Message, l *ledger) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		t.Errorf("sender failed: %v", err)
	}
	seen := map[string]int64{}
	for i, m := range hist {
		if m.Seq != int64(i+1) {
			t.Fatalf("history: seq %d at position %d (gap or disorder)", m.Seq, i)
		}
		if m.ClientMsgID == "" {
			continue
		}
		if prev, dup := seen[m.ClientMsgID]; dup {
			t.Errorf("client_msg_id %s stored twice: seq %d and %d", m.ClientMsgID, prev, m.Seq)
		}
		seen[m.ClientMsgID] = m.Seq
	}
	for cmid, seq := range l.acked {
		got, ok := seen[cmid]
		switch {
		case !ok:
			t.Errorf("acknowledged %s (seq %d) is not in the history", cmid, seq)
		case got != seq:
			t.Errorf("acknowledged %s with seq %d, stored at seq %d", cmid, seq, got)
		}
	}
	for who, ids := range l.order {
		for i := 1; i < len(ids); i++ {
			if l.acked[ids[i]] <= l.acked[ids[i-1]] {
				t.Errorf("%s sent %s before %s, but their seqs are %d and %d", who, ids[i-1], ids[i], l.acked[ids[i-1]], l.acked[ids[i]])
			}
		}
	}
}

// waitConverged waits until every session has delivered exactly hist for
// conv: the same messages (by id and seq), in order, each once.
func waitConverged(t testing.TB, timeout time.Duration, people []*person, conv int64, hist []parley.Message) {
	t.Helper()
	same := func(got []parley.Message) bool {
		if len(got) != len(hist) {
			return false
		}
		for i := range got {
			if got[i].ID != hist[i].ID || got[i].Seq != hist[i].Seq {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(timeout)
	for _, p := range people {
		for !same(p.rec.messages(conv)) {
			if time.Now().After(deadline) {
				got := p.rec.messages(conv)
				first := int64(0)
				if len(got) > 0 {
					first = got[0].Seq
				}
				t.Fatalf("%s (node %q) holds %d messages (from seq %d), history has %d", p.name, p.node(), len(got), first, len(hist))
			}
			time.Sleep(10 * time.Millisecond)
		}
		p.rec.check(t, p.name)
	}
}

// binary builds cmd/parley once per test run.
var buildOnce struct {
	sync.Once
	dir, path string
	err       error
}

func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-cluster-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.dir = dir
		buildOnce.path = filepath.Join(dir, "parley")
		cmd := exec.Command("go", "build", "-o", buildOnce.path, "parley/cmd/parley")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build ./cmd/parley: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// process is a `parley serve` child process.
type process struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startProcess runs the binary with args and waits until /healthz answers
// at addr. It is killed when the test ends, if still running.
func startProcess(t testing.TB, addr string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	hc := httpClient()
	servertest.WaitFor(t, 30*time.Second, func() bool {
		select {
		case <-p.done:
			t.Fatalf("parley serve exited: %v", cmd.ProcessState)
		default:
		}
		res, err := hc.Get(p.url + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, "parley serve to answer /healthz at %s", addr)
	return p
}

// kill sends SIGKILL (kill -9) and waits for the process to end.
func (p *process) kill() {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return
	}
	<-p.done
}
