package ws_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/servertest"
)

// TestFrameRightAfterHandshake sends the upgrade request and a first
// operation in one TCP write: the operation, buffered by net/http during the
// handshake, must still be read (the connection swaps in its own buffers).
func TestFrameRightAfterHandshake(t *testing.T) {
	srv := servertest.Start(t)
	token := login(t, srv, "early")
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	var out bytes.Buffer
	fmt.Fprintf(&out, "GET /api/v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
		strings.TrimPrefix(srv.URL, "http://"), token)
	payload := []byte(`{"op":"ping","id":"early"}`)
	mask := [4]byte{1, 2, 3, 4}
	out.Write([]byte{0x81, 0x80 | byte(len(payload))}) // FIN, text; masked, short length
	out.Write(mask[:])
	for i, b := range payload {
		out.WriteByte(b ^ mask[i%4])
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}

	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", res.StatusCode)
	}
	for {
		msg, err := readServerMessage(br)
		if err != nil {
			t.Fatalf("no reply to the early operation: %v", err)
		}
		if bytes.Contains(msg, []byte(`{"re":"early","ok":true`)) {
			return
		}
	}
}

// readServerMessage reads one unmasked, unfragmented server frame.
func readServerMessage(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	msg := make([]byte, n)
	_, err := io.ReadFull(r, msg)
	return msg, err
}
