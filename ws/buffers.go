package ws

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
)

// readBufferSize is the read buffer of a connection. Operations are small
// (a send is a few hundred bytes); a larger frame is read past the buffer,
// straight into its destination.
const readBufferSize = 1 << 10

// controlBufferSize is the write buffer coder/websocket writes through: it
// holds a whole control frame (at most 127 bytes). Data messages are
// gathered by socketWriter instead.
const controlBufferSize = 256

// hijacker hands websocket.Accept a connection with our own buffers in place
// of net/http's two 4 KiB ones, which an idle connection would otherwise
// keep for its whole life: a small read buffer, and a write buffer that
// feeds a socketWriter.
type hijacker struct {
	http.ResponseWriter
	sock *socketWriter // set by Hijack
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent right after its handshake wait in net/http's
	// reader; ours starts with them.
	var br *bufio.Reader
	if n := brw.Reader.Buffered(); n > 0 {
		pending, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(pending)), conn), max(readBufferSize, n))
		br.Peek(n)
	} else {
		br = bufio.NewReaderSize(conn, readBufferSize)
	}
	h.sock = &socketWriter{conn: conn}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(h.sock, controlBufferSize)), nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// socketWriter is what coder/websocket's buffered writer flushes into. It
// writes through to the socket, except between gather and flush: the writer
// goroutine gathers a data message there (header and payload, however
// long) and flushes it with one system call, where a 4 KiB buffer would
// take two for anything longer.
//
// mu orders every write to the socket: coder/websocket also writes control
// frames (pongs, pings, the close frame) from other goroutines, and nothing
// may overtake a gathered message. It is taken only by writes to this one
// socket, never by fan-out.
type socketWriter struct {
	conn      net.Conn
	mu        sync.Mutex
	gathering bool
	buf       *[]byte
}

var gatherPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (w *socketWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gathering {
		*w.buf = append(*w.buf, p...)
		return len(p), nil
	}
	return w.conn.Write(p)
}

// gather starts collecting writes.
func (w *socketWriter) gather() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gathering = true
	w.buf = gatherPool.Get().(*[]byte)
}

// flush writes what was gathered and goes back to writing through.
func (w *socketWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gathering = false
	b := w.buf
	w.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = w.conn.Write(*b)
	}
	if cap(*b) <= 256<<10 { // don't pool a burst's buffer
		*b = (*b)[:0]
		gatherPool.Put(b)
	}
	return err
}

// joinPool holds the buffers that a batch of frames is joined in for one
// write (see Conn.write), shared by all connections: under fan-out every
// connection writes a batch of the same events each WriteInterval, and a
// buffer of its own, grown by appending and dropped when its queue
// emptied, cost more CPU (growing it, and collecting it) than the write's
// system call. Buffers past maxPooledJoin are not kept.
var joinPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledJoin = 1 << 20

// joined returns the frames of batch joined by '\n', in a buffer from
// joinPool sized once for them; give it back with putJoined.
func joined(batch [][]byte) *[]byte {
	n := len(batch) - 1
	for _, f := range batch {
		n += len(f)
	}
	bp := joinPool.Get().(*[]byte)
	b := slices.Grow((*bp)[:0], n)
	for i, f := range batch {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, f...)
	}
	*bp = b
	return bp
}

func putJoined(bp *[]byte) {
	if cap(*bp) <= maxPooledJoin {
		*bp = (*bp)[:0]
		joinPool.Put(bp)
	}
}
