package disk_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley"
	"parley/blobtest"
	"parley/disk"
)

func TestBlobs(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) parley.Blobs {
		b, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// A blob is a file named by its hash under two levels of folders, and a
// failed Put leaves no temporary file behind.
func TestLayout(t *testing.T) {
	dir := t.TempDir()
	b, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("hello")
	key := blobtest.Key(data)
	if err := b.Put(t.Context(), key, bytes.NewReader(data), 5); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, key[:2], key[2:4], key))
	if err != nil || string(got) != "hello" {
		t.Fatalf("blob file: %q, %v", got, err)
	}
	if err := b.Put(t.Context(), key, bytes.NewReader([]byte("world")), 5); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("Put of other bytes under the key: %v", err)
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("%d temporary files left after a failed Put", len(tmp))
	}
}

// Open removes temporary files a crash left, once they are old.
func TestStaleTempRemoved(t *testing.T) {
	dir := t.TempDir()
	if _, err := disk.Open(dir); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(dir, "tmp", "put-old"), filepath.Join(dir, "tmp", "put-fresh")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, past, past)
	if _, err := disk.Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh temporary file (another writer's) removed: %v", err)
	}
}

// Keys lists every blob once with its size, and nothing else of the folder.
func TestKeys(t *testing.T) {
	dir := t.TempDir()
	b, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, s := range []string{"a", "bb", "ccc"} {
		key := blobtest.Key([]byte(s))
		if err := b.Put(t.Context(), key, bytes.NewReader([]byte(s)), int64(len(s))); err != nil {
			t.Fatal(err)
		}
		want[key] = int64(len(s))
	}
	os.WriteFile(filepath.Join(dir, "tmp", "put-1"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	got := map[string]int64{}
	if err := b.Keys(func(key string, size int64) error {
		if _, ok := got[key]; ok {
			t.Errorf("%s listed twice", key)
		}
		got[key] = size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("%s: size %d, want %d", k, got[k], n)
		}
	}
}
