package http_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"parley/app"
	"parley/servertest"
)

// smallDisk mounts a tmpfs of size bytes on a fresh folder (unmounted when
// the test ends): a real file system that fills up. It needs root; the
// test is skipped without it.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file until the file system is full and returns a function
// that removes it.
func fill(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	for len(buf) > 1 { // the last bytes
		if _, err := f.Write(buf[:len(buf)/2]); err != nil {
			buf = buf[:len(buf)/2]
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

func readyz(t *testing.T, srv *servertest.Server) int {
	t.Helper()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func waitReadyz(t *testing.T, srv *servertest.Server, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for readyz(t, srv) != want {
		if time.Since(start) > within {
			t.Fatalf("/readyz did not answer %d within %v", want, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// TestReadyzFullDisk: the disk of a SQLite node fills up. Every write
// answers 503 unavailable while reads go on, and /readyz says the node is
// not ready (it checks that the store can write, not only that it
// answers); when space comes back, /readyz is 200 again and sends work.
func TestReadyzFullDisk(t *testing.T) {
	dir := smallDisk(t, 4<<20)
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.DataDir = dir }))
	alice := servertest.SignUp(t, srv.URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Disk"}).Obj("conversation")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id(g, "id"))
	alice.Must(201, "POST", path, map[string]any{"client_msg_id": "before", "text": "before"})
	if s := readyz(t, srv); s != http.StatusOK {
		t.Fatalf("/readyz with room on the disk: %d", s)
	}

	free := fill(t, dir)
	if r := alice.Do("POST", path, map[string]any{"client_msg_id": "full", "text": "no room"}); r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" {
		t.Errorf("send on a full disk: %d %s, want 503 unavailable", r.Status, r.Raw)
	}
	alice.Must(200, "GET", path, nil) // reads go on
	took := waitReadyz(t, srv, http.StatusServiceUnavailable, 5*time.Second)
	t.Logf("/readyz 503 %v after the disk filled", took.Round(time.Millisecond))

	free()
	took = waitReadyz(t, srv, http.StatusOK, 5*time.Second)
	t.Logf("/readyz 200 %v after space came back", took.Round(time.Millisecond))
	alice.Must(201, "POST", path, map[string]any{"client_msg_id": "after", "text": "room again"})
}
