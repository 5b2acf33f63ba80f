package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/sqlite"
	"parley/storetest"
)

// open returns a store on a fresh database file, closed when the test ends.
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "data", "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store { return open(t) })
}

// TestCloseWhileWriting: Close during a stream of sends stops the writer;
// every send either was acknowledged (and is stored) or fails with
// EUNAVAILABLE, none hangs, later calls fail with EUNAVAILABLE, and no
// goroutine is left behind.
func TestCloseWhileWriting(t *testing.T) {
	before := runtime.NumGoroutine()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	alice := storetest.MustUser(t, s, "alice")
	g := storetest.MustGroup(t, s, "G", alice)

	const workers = 16
	var (
		mu    sync.Mutex
		acked []parley.Message
		wg    sync.WaitGroup
		some  = make(chan struct{}, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				m, _, err := s.AppendMessage(context.Background(), parley.NewMessage{
					ConversationID: g.ID, SenderID: alice.ID, ClientMsgID: fmt.Sprintf("%d-%d", w, i),
					Kind: parley.MessageText, Text: "x", CreatedAt: time.Now(),
				})
				if err != nil {
					if parley.ErrorCode(err) != parley.EUNAVAILABLE {
						t.Errorf("append during Close: %v, want EUNAVAILABLE", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, m)
				mu.Unlock()
				if i == 10 {
					some <- struct{}{}
				}
			}
		})
	}
	for range workers {
		<-some
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()

	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, _, err = s.AppendMessage(t.Context(), parley.NewMessage{ConversationID: g.ID, SenderID: alice.ID, Kind: parley.MessageText, Text: "late"})
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("append after Close: %v, want EUNAVAILABLE", err)
	}
	if _, err := s.User(t.Context(), alice.ID); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("read after Close: %v, want EUNAVAILABLE", err)
	}
	if err := s.Ping(t.Context()); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("Ping after Close: %v, want EUNAVAILABLE", err)
	}

	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}

	checkAcked(t, path, g.ID, acked)
}

// checkAcked reopens the database and checks that every acknowledged
// message is stored as acknowledged, in a gap-free history.
func checkAcked(t *testing.T, path string, conversationID int64, acked []parley.Message) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Conversation(t.Context(), conversationID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]parley.Message{}
	for after := int64(0); after < c.LastSeq; {
		page, err := s.Messages(t.Context(), conversationID, parley.MessageQuery{AfterSeq: after, Limit: parley.PageSizeMax})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if m.Seq != after+1 {
				t.Fatalf("history: seq %d after %d", m.Seq, after)
			}
			stored[m.Seq], after = m, m.Seq
		}
	}
	for _, a := range acked {
		if m, ok := stored[a.Seq]; !ok || m.ClientMsgID != a.ClientMsgID {
			t.Fatalf("acknowledged message seq %d (%s) is not stored as acknowledged (found %+v)", a.Seq, a.ClientMsgID, m)
		}
	}
	t.Logf("%d acknowledged messages, all stored; last_seq %d", len(acked), c.LastSeq)
}

// TestAckedSurvivesKill runs a child process that sends messages from many
// goroutines and prints each acknowledgement, kills it with SIGKILL mid-
// stream, and checks that every acknowledged message is in the database.
func TestAckedSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	alice := storetest.MustUser(t, s, "alice")
	g := storetest.MustGroup(t, s, "G", alice)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d,%d", killChildEnv, path, g.ID, alice.ID))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []parley.Message
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var m parley.Message
		if _, err := fmt.Sscanf(sc.Text(), "%d %s", &m.Seq, &m.ClientMsgID); err != nil {
			t.Fatalf("child said %q: %v", sc.Text(), err)
		}
		acked = append(acked, m)
		if len(acked) == 2000 {
			cmd.Process.Kill() // SIGKILL: no chance to clean up
		}
	}
	cmd.Wait()
	if len(acked) < 2000 {
		t.Fatalf("child acknowledged only %d messages", len(acked))
	}
	checkAcked(t, path, g.ID, acked)
}

const killChildEnv = "PARLEY_SQLITE_KILL_CHILD"

// killChild is the child of TestAckedSurvivesKill: it sends until killed,
// printing "seq client_msg_id" for each acknowledged message.
func killChild(arg string) {
	var (
		path         string
		conv, sender int64
	)
	parts := strings.Split(arg, ",")
	path = parts[0]
	fmt.Sscan(parts[1], &conv)
	fmt.Sscan(parts[2], &sender)
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for w := range 16 {
		go func() {
			for i := 0; ; i++ {
				m, _, err := s.AppendMessage(context.Background(), parley.NewMessage{
					ConversationID: conv, SenderID: sender, ClientMsgID: fmt.Sprintf("%d-%d", w, i),
					Kind: parley.MessageText, Text: "x", CreatedAt: time.Now(),
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("%d %s\n", m.Seq, m.ClientMsgID)
				mu.Unlock()
			}
		}()
	}
	select {}
}

func TestMain(m *testing.M) {
	if arg := os.Getenv(killChildEnv); arg != "" {
		killChild(arg)
	}
	os.Exit(m.Run())
}
