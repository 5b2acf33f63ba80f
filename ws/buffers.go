package ws

import (
	"bufio"
	"bytes"
	"encoding/binary"
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
// framed and written by socketWriter instead.
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

// socketWriter is what coder/websocket's buffered writer flushes into: its
// control frames (pings, pongs, the close frame), each flushed whole, go
// straight to the socket. Data messages do not go through coder/websocket:
// the writer goroutine frames them itself (writeText), header and payload
// in one system call.
//
// mu orders every write to the socket: coder/websocket writes control
// frames from other goroutines, and no frame may overtake or split another.
// It is taken only by writes to this one socket, never by fan-out.
type socketWriter struct {
	conn      net.Conn
	mu        sync.Mutex
	closeSent bool // a close frame went out: no data may follow it
}

// opClose is the opcode of a WebSocket close frame (RFC 6455, 5.2).
const opClose = 0x8

func (w *socketWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Every write here starts a frame: coder/websocket flushes each control
	// frame whole (at most 127 bytes, in a buffer of controlBufferSize).
	if len(p) > 0 && p[0]&0x0f == opClose {
		w.closeSent = true
	}
	return w.conn.Write(p)
}

// writeText writes frames as one WebSocket text message, joined by '\n':
// one unfragmented, unmasked, uncompressed frame (what coder/websocket
// writes for a server without compression), header and payload copied
// once into a buffer of joinPool and written with one system call. (A
// writev of the frames where they lie, with no copy, cost more: the
// kernel's work per piece is more than a copy of a few hundred bytes.)
func (w *socketWriter) writeText(frames [][]byte) error {
	bp := joined(frames, maxTextHeader)
	defer putJoined(bp)
	b := *bp
	n := len(b) - maxTextHeader
	h := appendTextHeader(b[:0], n)
	// The header goes right before the payload.
	msg := b[maxTextHeader-len(h):]
	copy(msg, h)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		return net.ErrClosed
	}
	_, err := w.conn.Write(msg)
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

// joined returns the frames of batch joined by '\n', after room bytes
// left for a header, in a buffer from joinPool sized once for them; give
// it back with putJoined.
func joined(batch [][]byte, room int) *[]byte {
	n := room + len(batch) - 1
	for _, f := range batch {
		n += len(f)
	}
	bp := joinPool.Get().(*[]byte)
	b := slices.Grow((*bp)[:0], n)[:room]
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

// maxTextHeader is the longest header of an unmasked frame.
const maxTextHeader = 10

// appendTextHeader appends the header of a final, unmasked text frame of
// n bytes (RFC 6455, 5.2).
func appendTextHeader(b []byte, n int) []byte {
	b = append(b, 0x80|0x1) // FIN, text
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}
