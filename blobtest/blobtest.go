// Package blobtest is the conformance suite every parley.Blobs
// implementation must pass: disk.Blobs on a temporary folder and s3.Blobs
// against an S3-protocol server on loopback (s3test) run the same tests.
//
//	func TestBlobs(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) parley.Blobs {
//			b, err := disk.Open(t.TempDir())
//			...
//			return b
//		})
//	}
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"parley"
)

// Run runs the suite. Each subtest gets a fresh, empty store from newBlobs.
func Run(t *testing.T, newBlobs func(t *testing.T) parley.Blobs) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b parley.Blobs)
	}{
		{"PutOpen", testPutOpen},
		{"Empty", testEmpty},
		{"Missing", testMissing},
		{"BadKey", testBadKey},
		{"Mismatch", testMismatch},
		{"FailedPutLeavesNothing", testFailedPut},
		{"Canceled", testCanceled},
		{"Seek", testSeek},
		{"PutAgain", testPutAgain},
		{"Concurrent", testConcurrent},
		{"Delete", testDelete},
		{"Large", testLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBlobs(t)) })
	}
}

// Key returns the blob key of data.
func Key(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func put(t *testing.T, b parley.Blobs, data []byte) string {
	t.Helper()
	key := Key(data)
	if err := b.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%d bytes): %v", len(data), err)
	}
	return key
}

func read(t *testing.T, b parley.Blobs, key string) []byte {
	t.Helper()
	blob, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key[:8], err)
	}
	defer blob.Close()
	data, err := io.ReadAll(blob)
	if err != nil {
		t.Fatalf("read %s: %v", key[:8], err)
	}
	if blob.Size() != int64(len(data)) {
		t.Fatalf("Size() = %d, read %d bytes", blob.Size(), len(data))
	}
	return data
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func wantAbsent(t *testing.T, b parley.Blobs, key string) {
	t.Helper()
	_, err := b.Open(t.Context(), key)
	wantCode(t, "Open of an absent blob", err, parley.ENOTFOUND)
	_, err = b.Stat(t.Context(), key)
	wantCode(t, "Stat of an absent blob", err, parley.ENOTFOUND)
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(r.Uint32())
	}
	return out
}

func testPutOpen(t *testing.T, b parley.Blobs) {
	data := randomBytes(100_000, 1)
	key := put(t, b, data)
	if got := read(t, b, key); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, differ from the %d put", len(got), len(data))
	}
	size, err := b.Stat(t.Context(), key)
	if err != nil || size != int64(len(data)) {
		t.Fatalf("Stat = %d, %v; want %d", size, err, len(data))
	}
	other := put(t, b, []byte("another blob"))
	if got := read(t, b, other); string(got) != "another blob" {
		t.Fatalf("second blob read back as %q", got)
	}
}

func testEmpty(t *testing.T, b parley.Blobs) {
	key := put(t, b, nil)
	if got := read(t, b, key); len(got) != 0 {
		t.Fatalf("empty blob read back as %d bytes", len(got))
	}
}

func testMissing(t *testing.T, b parley.Blobs) {
	key := Key([]byte("never stored"))
	wantAbsent(t, b, key)
	if err := b.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete of an absent blob: %v", err)
	}
}

func testBadKey(t *testing.T, b parley.Blobs) {
	good := Key([]byte("x"))
	for _, key := range []string{"", "abc", good[:63], good + "0", "../../" + good[6:],
		string(bytes.ToUpper([]byte(good))), good[:63] + "g"} {
		err := b.Put(t.Context(), key, bytes.NewReader([]byte("x")), 1)
		wantCode(t, fmt.Sprintf("Put(%q)", key), err, parley.EINVALID)
		_, err = b.Open(t.Context(), key)
		wantCode(t, fmt.Sprintf("Open(%q)", key), err, parley.EINVALID)
		_, err = b.Stat(t.Context(), key)
		wantCode(t, fmt.Sprintf("Stat(%q)", key), err, parley.EINVALID)
		err = b.Delete(t.Context(), key)
		wantCode(t, fmt.Sprintf("Delete(%q)", key), err, parley.EINVALID)
	}
}

func testMismatch(t *testing.T, b parley.Blobs) {
	data := randomBytes(50_000, 2)
	key := Key(data)
	cases := []struct {
		name string
		key  string
		r    io.Reader
		size int64
	}{
		{"other bytes", key, bytes.NewReader(randomBytes(50_000, 3)), 50_000},
		{"fewer bytes than size", key, bytes.NewReader(data[:40_000]), 50_000},
		{"more bytes than size", Key(data[:40_000]), bytes.NewReader(data), 40_000},
		{"negative size", key, bytes.NewReader(data), -1},
	}
	for _, c := range cases {
		err := b.Put(t.Context(), c.key, c.r, c.size)
		wantCode(t, "Put with "+c.name, err, parley.EINVALID)
		if _, err := b.Stat(t.Context(), c.key); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("after a Put with %s, Stat = %v, want not_found", c.name, err)
		}
	}
}

// failingReader returns n bytes of data, then fails.
type failingReader struct {
	data []byte
	n    int
}

var errBroken = errors.New("the client went away")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	k := copy(p, f.data[:min(len(f.data), f.n)])
	f.data, f.n = f.data[k:], f.n-k
	return k, nil
}

func testFailedPut(t *testing.T, b parley.Blobs) {
	for _, size := range []int{100_000, 9 << 20} { // one request, and many parts
		data := randomBytes(size, uint64(size))
		key := Key(data)
		err := b.Put(t.Context(), key, &failingReader{data: data, n: size - 1000}, int64(size))
		if err == nil {
			t.Fatalf("Put from a reader that fails after %d of %d bytes succeeded", size-1000, size)
		}
		wantAbsent(t, b, key)
		// A later complete Put works.
		put(t, b, data)
		if got := read(t, b, key); !bytes.Equal(got, data) {
			t.Fatalf("blob after a failed and a good Put differs")
		}
	}
}

// cancelReader cancels its context after n bytes.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	k, err := c.r.Read(p[:min(len(p), max(c.n, 1))])
	c.n -= k
	return k, err
}

func testCanceled(t *testing.T, b parley.Blobs) {
	data := randomBytes(200_000, 4)
	key := Key(data)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := b.Put(ctx, key, &cancelReader{r: bytes.NewReader(data), n: 50_000, cancel: cancel}, int64(len(data)))
	if err == nil {
		t.Fatal("Put whose context was canceled midway succeeded")
	}
	wantAbsent(t, b, key)
}

func testSeek(t *testing.T, b parley.Blobs) {
	data := randomBytes(300_000, 5)
	key := put(t, b, data)
	blob, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close()
	end, err := blob.Seek(0, io.SeekEnd)
	if err != nil || end != int64(len(data)) {
		t.Fatalf("Seek(0, End) = %d, %v", end, err)
	}
	for _, off := range []int64{123_456, 0, 299_990, 77} {
		if pos, err := blob.Seek(off, io.SeekStart); err != nil || pos != off {
			t.Fatalf("Seek(%d) = %d, %v", off, pos, err)
		}
		got := make([]byte, min(1000, int64(len(data))-off))
		if _, err := io.ReadFull(blob, got); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(got, data[off:off+int64(len(got))]) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
}

func testPutAgain(t *testing.T, b parley.Blobs) {
	data := randomBytes(1<<20, 6)
	key := put(t, b, data)
	// A reader that opened the blob before it is put again reads it whole.
	blob, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close()
	put(t, b, data)
	got, err := io.ReadAll(blob)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a reader across a second Put read %d bytes (%v), want the same %d", len(got), err, len(data))
	}
}

func testConcurrent(t *testing.T, b parley.Blobs) {
	same := randomBytes(300_000, 7)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			errs <- b.Put(t.Context(), Key(same), bytes.NewReader(same), int64(len(same)))
		})
		wg.Go(func() {
			d := randomBytes(10_000+i, uint64(100+i))
			errs <- b.Put(t.Context(), Key(d), bytes.NewReader(d), int64(len(d)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put: %v", err)
		}
	}
	if got := read(t, b, Key(same)); !bytes.Equal(got, same) {
		t.Fatal("a blob put by 8 writers at once differs")
	}
	for i := range 8 {
		d := randomBytes(10_000+i, uint64(100+i))
		if got := read(t, b, Key(d)); !bytes.Equal(got, d) {
			t.Fatalf("blob %d differs", i)
		}
	}
}

func testDelete(t *testing.T, b parley.Blobs) {
	keep := put(t, b, []byte("keep me"))
	gone := put(t, b, []byte("delete me"))
	if err := b.Delete(t.Context(), gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, b, gone)
	if err := b.Delete(t.Context(), gone); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if got := read(t, b, keep); string(got) != "keep me" {
		t.Fatalf("the other blob reads %q", got)
	}
	put(t, b, []byte("delete me"))
	if got := read(t, b, gone); string(got) != "delete me" {
		t.Fatalf("a blob put again after its deletion reads %q", got)
	}
}

// Pattern yields n bytes of a fixed pattern without holding them, for
// large blobs in tests.
func Pattern(n int64) io.Reader { return &pattern{n: n} }

type pattern struct{ off, n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n-p.off))
	for i := range k {
		b[i] = byte((p.off + int64(i)) * 7 / 3)
	}
	p.off += int64(k)
	return k, nil
}

func testLarge(t *testing.T, b parley.Blobs) {
	const size = 20 << 20
	h := sha256.New()
	io.Copy(h, Pattern(size))
	key := hex.EncodeToString(h.Sum(nil))
	if err := b.Put(t.Context(), key, Pattern(size), size); err != nil {
		t.Fatalf("Put of %d MiB: %v", size>>20, err)
	}
	blob, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close()
	h.Reset()
	n, err := io.Copy(h, blob)
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != key {
		t.Fatalf("read back %d bytes (%v), hash match %v", n, err, hex.EncodeToString(h.Sum(nil)) == key)
	}
}
