package bench

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"parley"
	"parley/service"
)

func TestLeanScan(t *testing.T) {
	l := &lean{hello: make(chan struct{}), done: make(chan struct{})}
	l.reset("runA")
	sent := time.Now().Add(-30 * time.Millisecond)
	ns := strconv.FormatInt(sent.UnixNano(), 10)
	msg := `{"ev":"message","change":"new","message":{"id":1,"conversation_id":7,"seq":3,"sender":{"id":1,"username":"a"},"client_msg_id":"runA-1","kind":"text","text":"~runA ` + ns + ` padding"}}`
	other := `{"ev":"message","change":"new","message":{"id":2,"text":"~runB ` + ns + ` padding"}}`
	edited := `{"ev":"message","change":"edited","message":{"id":1,"text":"~runA ` + ns + ` x"}}`
	ack := `{"re":"` + ns + `","ok":true,"message":{"id":1},"duplicate":false}`
	refused := `{"re":"` + ns + `","ok":false,"error":{"code":"rate_limited","message":"slow down"}}`
	hello := `{"ev":"hello","user":{"id":1}}`
	data := []byte(hello + "\n" + msg + "\n" + other + "\n" + edited + "\n" + ack + "\n" + refused + "\n" + msg)
	l.scan(data, sent.Add(40*time.Millisecond))

	select {
	case <-l.hello:
	default:
		t.Error("hello not seen")
	}
	del, acked, failed := l.counts()
	if del != 2 || acked != 1 || failed != 1 {
		t.Errorf("delivered %d acked %d failed %d, want 2 1 1", del, acked, failed)
	}
	if l.foreign != 1 {
		t.Errorf("foreign %d, want 1", l.foreign)
	}
	if l.failure != "rate_limited" {
		t.Errorf("failure %q", l.failure)
	}
	if got := l.lat.Quantile(0.5); got < 39*time.Millisecond || got > 42*time.Millisecond {
		t.Errorf("latency %v, want about 40ms", got)
	}

	l.reset("runB")
	if d, a, f := l.counts(); d+a+f != 0 {
		t.Error("reset kept counts")
	}
}

func TestLeadingInt(t *testing.T) {
	for _, c := range []struct {
		in     string
		n      int64
		digits int
	}{
		{"123 x", 123, 3}, {"x", 0, 0}, {"", 0, 0}, {"1790000000000000000\"", 1790000000000000000, 19},
	} {
		n, d := leadingInt([]byte(c.in))
		if n != c.n || d != c.digits {
			t.Errorf("leadingInt(%q) = %d, %d; want %d, %d", c.in, n, d, c.n, c.digits)
		}
	}
}

func TestWSURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":  "ws://127.0.0.1:8080/api/v1/ws",
		"https://example.org/pf": "wss://example.org/pf/api/v1/ws",
	} {
		if got := wsURL(in); got != want {
			t.Errorf("wsURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTextOffset: even the shortest message event puts its text beyond
// textOffset, where scan starts looking.
func TestTextOffset(t *testing.T) {
	m := parley.Message{ID: 1, ConversationID: 1, Seq: 1, Mod: 1, SenderID: 1,
		Sender: &parley.UserRef{ID: 1, Username: "abc"}, ClientMsgID: "x", Kind: parley.MessageText, Text: "t"}
	b, err := json.Marshal(service.MessageFrame{Ev: "message", Change: "new", Message: m})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, prefixMessage) {
		t.Fatalf("event %s does not start with %s", b, prefixMessage)
	}
	if i := bytes.Index(b, []byte(`"text":"`)); i < textOffset {
		t.Errorf("text at %d, before textOffset %d: %s", i, textOffset, b)
	}
}
