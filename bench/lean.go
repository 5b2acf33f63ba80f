package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// lean is a bare WebSocket connection for load generation. Instead of the
// full client (which decodes every event, orders messages and keeps
// cursors), its reader reads each WebSocket message into one reused buffer
// and scans the newline-separated frames for the few byte patterns the
// bench counts: new-message events carrying this run's tag (whose text
// holds the send time, giving end-to-end latency), replies to its own sends
// (whose id is the send time, giving ack latency) and the hello event.
type lean struct {
	ws *websocket.Conn

	hello  chan struct{} // closed when the hello event arrives
	helloO sync.Once
	done   chan struct{} // closed when the reader stops
	err    error         // why the reader stopped; read after done

	// mu guards the figures, updated once per WebSocket message.
	mu        sync.Mutex
	mark      []byte // textMark(tag), nil: count nothing
	delivered int64
	foreign   int64 // message events without the tag
	acked     int64
	failed    int64
	failure   string // first error reply
	lat, ack  *Hist  // allocated by reset

	// Used by the one goroutine that sends.
	wbuf []byte
	next int64
}

// dialer makes WebSocket handshakes from one local address.
type dialer struct {
	hc    *http.Client
	local string // "" for the system's choice
}

func newDialer(local string) *dialer {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConns: -1, DisableKeepAlives: true}
	return &dialer{hc: &http.Client{Transport: tr}, local: local}
}

// errNoPorts reports that the local address has no ephemeral port left.
func errNoPorts(err error) bool { return errors.Is(err, syscall.EADDRNOTAVAIL) }

func wsURL(base string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		return "wss://" + strings.TrimPrefix(base, "https://") + "/api/v1/ws"
	case strings.HasPrefix(base, "http://"):
		return "ws://" + strings.TrimPrefix(base, "http://") + "/api/v1/ws"
	}
	return base + "/api/v1/ws"
}

// dialLean opens an authenticated WebSocket and starts its reader. It
// returns once the server's hello has arrived.
func dialLean(ctx context.Context, d *dialer, base, token string) (*lean, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(base), &websocket.DialOptions{
		HTTPClient: d.hc,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}, "User-Agent": {"parley-bench"}},
	})
	if err != nil {
		return nil, err
	}
	// The server joins many frames into one message: up to its whole
	// outbound queue (4 MiB by default).
	ws.SetReadLimit(64 << 20)
	l := &lean{ws: ws, hello: make(chan struct{}), done: make(chan struct{})}
	go l.readLoop()
	select {
	case <-l.hello:
		return l, nil
	case <-l.done:
		return nil, fmt.Errorf("connection ended before hello: %w", l.err)
	case <-ctx.Done():
		ws.CloseNow()
		return nil, fmt.Errorf("no hello: %w", ctx.Err())
	}
}

func (l *lean) readLoop() {
	defer close(l.done)
	var buf bytes.Buffer
	for {
		_, r, err := l.ws.Reader(context.Background())
		if err != nil {
			l.err = err
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			l.err = err
			return
		}
		l.scan(buf.Bytes(), time.Now())
		if buf.Cap() > 1<<20 {
			buf = bytes.Buffer{} // don't keep a burst's buffer
		}
	}
}

// textOffset is a lower bound of where a message event's "text" field
// starts: {"ev":"message","change":"new","message":{"id":…,
// "conversation_id":…,"seq":…,"mod":…,"sender_id":…,(groups:
// "sender":{…},)"client_msg_id":…,"kind":"text", is longer than this.
const textOffset = 128

var (
	prefixMessage = []byte(`{"ev":"message","change":"new",`)
	prefixReply   = []byte(`{"re":"`)
	prefixHello   = []byte(`{"ev":"hello"`)
	okTrue        = []byte(`","ok":true`)
	codeKey       = []byte(`"code":"`)
	textKey       = []byte(`"text":"`)
)

// textMark starts the text of a run's messages: the send time follows.
func textMark(tag string) string { return "~" + tag + " " }

// scan counts what one WebSocket message (frames joined by '\n') holds.
func (l *lean) scan(data []byte, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		switch {
		case bytes.HasPrefix(line, prefixMessage):
			if l.mark == nil {
				continue
			}
			// The text comes after the message's ids, sender and
			// client_msg_id: at least textOffset bytes in. The mark
			// starts with a byte JSON rarely holds, which the search
			// skips to.
			from := min(textOffset, len(line))
			i := bytes.Index(line[from:], l.mark)
			if i < 0 || !bytes.HasSuffix(line[:from+i], textKey) {
				l.foreign++
				continue
			}
			sent, k := leadingInt(line[from+i+len(l.mark):])
			if k == 0 {
				l.foreign++
				continue
			}
			l.delivered++
			l.lat.Add(now.Sub(time.Unix(0, sent)))
		case bytes.HasPrefix(line, prefixReply):
			if l.mark == nil {
				continue
			}
			rest := line[len(prefixReply):]
			sent, k := leadingInt(rest)
			if k == 0 {
				continue // not one of ours
			}
			if bytes.HasPrefix(rest[k:], okTrue) {
				l.acked++
				l.ack.Add(now.Sub(time.Unix(0, sent)))
				continue
			}
			l.failed++
			if l.failure == "" {
				l.failure = "error reply"
				if i := bytes.Index(rest, codeKey); i >= 0 {
					code := rest[i+len(codeKey):]
					if j := bytes.IndexByte(code, '"'); j >= 0 {
						l.failure = string(code[:j])
					}
				}
			}
		case bytes.HasPrefix(line, prefixHello):
			l.helloO.Do(func() { close(l.hello) })
		}
	}
}

// leadingInt parses the decimal digits b starts with and
// returns how many there were (at most 19; the times sent are below 2^63).
func leadingInt(b []byte) (n int64, digits int) {
	for ; digits < len(b) && digits < 19 && b[digits] >= '0' && b[digits] <= '9'; digits++ {
		n = n*10 + int64(b[digits]-'0')
	}
	return n, digits
}

// reset starts counting messages tagged tag from zero.
func (l *lean) reset(tag string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mark = []byte(textMark(tag))
	l.delivered, l.foreign, l.acked, l.failed, l.failure = 0, 0, 0, 0, ""
	l.lat, l.ack = new(Hist), new(Hist)
}

// counts returns the deliveries and replies counted so far.
func (l *lean) counts() (delivered, acked, failed int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.delivered, l.acked, l.failed
}

// alive reports whether the reader still runs.
func (l *lean) alive() bool {
	select {
	case <-l.done:
		return false
	default:
		return true
	}
}

// send writes one send operation whose id and text carry the time now
// (the client_msg_id is tag-<n>, unique per connection and run; the text is
// textMark(tag), the time and pad).
func (l *lean) send(ctx context.Context, convID int64, tag, pad string, now time.Time) error {
	ts := now.UnixNano()
	l.next++
	b := append(l.wbuf[:0], `{"op":"send","id":"`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `","conversation_id":`...)
	b = strconv.AppendInt(b, convID, 10)
	b = append(b, `,"client_msg_id":"`...)
	b = append(b, tag...)
	b = append(b, '-')
	b = strconv.AppendInt(b, l.next, 10)
	b = append(b, `","text":"`...)
	b = append(b, textMark(tag)...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, ' ')
	b = append(b, pad...)
	b = append(b, `"}`...)
	l.wbuf = b
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return l.ws.Write(wctx, websocket.MessageText, b)
}

// close ends the connection with a normal close, or drops it after a
// second.
func (l *lean) close() {
	done := make(chan struct{})
	go func() {
		l.ws.Close(websocket.StatusNormalClosure, "")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		l.ws.CloseNow()
	}
	<-l.done
}

// padding returns n characters of filler text.
func padding(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 "
	var b strings.Builder
	for i := range n {
		b.WriteByte(alphabet[i%len(alphabet)])
	}
	return b.String()
}
