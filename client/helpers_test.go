package client

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/app"
	"parley/servertest"
)

// ctxT returns a context that ends with the test or after d.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// startServer runs a node with limits raised for tests that send fast.
func startServer(t testing.TB) *servertest.Server {
	return servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Realtime.OpsPerSecond = 5000
		c.Realtime.OpsBurst = 5000
	}))
}

var userSeq struct {
	sync.Mutex
	n int
}

// newUser signs up a fresh user and returns a client logged in as them.
func newUser(t testing.TB, baseURL, prefix string) (*Client, parley.User) {
	t.Helper()
	userSeq.Lock()
	userSeq.n++
	name := fmt.Sprintf("%s%d", prefix, userSeq.n)
	userSeq.Unlock()
	c := New(baseURL)
	ctx := ctxT(t, 10*time.Second)
	if _, err := c.Signup(ctx, name, name+"@example.com", "password-"+name); err != nil {
		t.Fatalf("signup %s: %v", name, err)
	}
	u, err := c.Login(ctx, name, "password-"+name)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return c, u
}

// device logs in again as the same user: another session, as another
// device would have.
func device(t testing.TB, baseURL string, u parley.User, opts ...Option) *Client {
	t.Helper()
	c := New(baseURL, opts...)
	if _, err := c.Login(ctxT(t, 10*time.Second), u.Username, "password-"+u.Username); err != nil {
		t.Fatalf("login %s: %v", u.Username, err)
	}
	return c
}

// recorder is a Handler that records what it gets and checks the order
// promise as it goes: per conversation, new messages come with consecutive
// seqs, each once.
type recorder struct {
	mu       sync.Mutex
	news     map[int64][]parley.Message
	changes  []parley.Message
	receipts []Receipt
	typing   []Typing
	presence []Presence
	convs    []ConversationEvent
	states   []State
	errs     []error
	faults   []string
}

func newRecorder() *recorder { return &recorder{news: make(map[int64][]parley.Message)} }

func (r *recorder) handler() Handler {
	return Handler{
		OnMessage: func(m parley.Message, change string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if change != ChangeNew {
				r.changes = append(r.changes, m)
				return
			}
			list := r.news[m.ConversationID]
			if n := len(list); n > 0 && m.Seq != list[n-1].Seq+1 {
				r.faults = append(r.faults, fmt.Sprintf("conversation %d: seq %d after %d", m.ConversationID, m.Seq, list[n-1].Seq))
			}
			r.news[m.ConversationID] = append(list, m)
		},
		OnReceipt:  func(x Receipt) { r.mu.Lock(); r.receipts = append(r.receipts, x); r.mu.Unlock() },
		OnTyping:   func(x Typing) { r.mu.Lock(); r.typing = append(r.typing, x); r.mu.Unlock() },
		OnPresence: func(x Presence) { r.mu.Lock(); r.presence = append(r.presence, x); r.mu.Unlock() },
		OnConversation: func(x ConversationEvent) {
			r.mu.Lock()
			r.convs = append(r.convs, x)
			r.mu.Unlock()
		},
		OnState: func(s State, err error) {
			r.mu.Lock()
			r.states = append(r.states, s)
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		},
	}
}

// count returns how many new messages of a conversation came.
func (r *recorder) count(conv int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.news[conv])
}

// has reports whether a new message with this text came in conv.
func (r *recorder) has(conv int64, text string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.news[conv] {
		if m.Text == text {
			return true
		}
	}
	return false
}

func (r *recorder) check(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.faults {
		t.Error(f)
	}
}

// connect opens a realtime session recorded by rec, closed with the test.
func connect(t testing.TB, c *Client, rec *recorder, opts ...ConnectOption) *Realtime {
	t.Helper()
	opts = append([]ConnectOption{WithBackoff(10*time.Millisecond, 300*time.Millisecond)}, opts...)
	rt, err := c.Connect(ctxT(t, 10*time.Second), rec.handler(), opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// clientGoroutines counts the goroutines running the client's code.
func clientGoroutines() (int, string) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	var sample string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "parley/client.(*Realtime)") || strings.Contains(g, "parley/client.(*wsConn)") {
			count++
			if sample == "" {
				sample = g
			}
		}
	}
	return count, sample
}

// checkNoGoroutines waits until no goroutine runs the client's code.
func checkNoGoroutines(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, sample := clientGoroutines()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d client goroutines left, e.g.:\n%s", n, sample)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
