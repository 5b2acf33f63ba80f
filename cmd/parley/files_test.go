package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"parley/blobtest"
	"parley/servertest"
)

// peakRSS reads a process's peak resident memory (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestUploadStreams: a 25 MiB upload to the real binary streams to disk:
// the server's peak memory grows by far less than the file, and the file
// comes back whole.
func TestUploadStreams(t *testing.T) {
	addr := freeAddr(t)
	cmd := startBinary(t, addr, t.TempDir())
	base := "http://" + addr
	token := servertest.SignUp(t, base, "alice").Token

	const size = 25 << 20
	h := sha256.New()
	io.Copy(h, blobtest.Pattern(size))
	want := hex.EncodeToString(h.Sum(nil))
	// Warm up with a small upload so that the first one's one-time costs
	// are in the baseline.
	upload := func(n int64) map[string]any {
		req, _ := http.NewRequest("POST", base+"/api/v1/uploads?name=big.bin", blobtest.Pattern(n))
		req.ContentLength = n
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 201 {
			t.Fatalf("upload of %d bytes: %d %s", n, res.StatusCode, body)
		}
		var m struct{ Upload map[string]any }
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m.Upload
	}
	upload(1 << 20)
	before := peakRSS(t, cmd.Process.Pid)
	up := upload(size)
	grew := peakRSS(t, cmd.Process.Pid) - before
	t.Logf("peak RSS %d MiB before, grew %d KiB for a %d MiB upload", before>>20, grew>>10, size>>20)
	if grew > 8<<20 {
		t.Fatalf("peak RSS grew by %d MiB for a %d MiB upload: the upload is buffered", grew>>20, size>>20)
	}
	req, _ := http.NewRequest("GET", base+up["url"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	h.Reset()
	n, _ := io.Copy(h, res.Body)
	if n != size || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("downloaded %d bytes, same hash: %v", n, hex.EncodeToString(h.Sum(nil)) == want)
	}
}
