package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/backup"
	"parley/blobtest"
	"parley/disk"
	"parley/sqlite"
)

var vapid = parley.VAPIDKey{Public: "public-half", Private: "private-half", CreatedAt: time.Unix(1_800_000_000, 0)}

// dataDir makes a data dir with a database holding one user and a blobs
// folder holding one file.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(t.Context(), &parley.User{Username: "alice", Email: "alice@example.com", DisplayName: "Alice"}, "hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitVAPIDKey(t.Context(), vapid); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, err := disk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("a file")
	if err := b.Put(t.Context(), blobtest.Key(data), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func archive(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	sum, err := backup.Write(t.Context(), &buf, backup.Options{DataDir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 1 || sum.Schema != sqlite.LatestSchema() || sum.DatabaseBytes == 0 {
		t.Fatalf("summary %+v", sum)
	}
	return buf.Bytes()
}

// A backup restores into an empty folder (plain or gzip); the restored
// database opens with its user and the deployment's VAPID key, and the
// file is there.
func TestRoundTrip(t *testing.T) {
	src := dataDir(t)
	file := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := backup.WriteFile(t.Context(), file, nil, backup.Options{DataDir: src}); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"plain": archive(t, src), "gzip": must(os.ReadFile(file))} {
		dst := filepath.Join(t.TempDir(), "data")
		_, sum, err := backup.Restore(t.Context(), bytes.NewReader(data), backup.RestoreOptions{DataDir: dst})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sum.Files != 1 || len(sum.Missing) != 0 {
			t.Fatalf("%s: summary %+v", name, sum)
		}
		s, err := sqlite.Open(t.Context(), filepath.Join(dst, "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByUsername(t.Context(), "alice"); err != nil {
			t.Fatalf("%s: alice: %v", name, err)
		}
		if k, err := s.VAPIDKey(t.Context()); err != nil || k.Private != vapid.Private || k.Public != vapid.Public {
			t.Fatalf("%s: the VAPID key: %+v, %v", name, k, err)
		}
		s.Close()
		b, _ := disk.Open(filepath.Join(dst, "blobs"))
		if _, err := b.Stat(t.Context(), blobtest.Key([]byte("a file"))); err != nil {
			t.Fatalf("%s: the file: %v", name, err)
		}
		entries, _ := os.ReadDir(dst)
		if len(entries) != 2 {
			t.Fatalf("%s: restored data dir holds %v", name, entries)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// rewrite copies an archive, changing its entries with edit (nil drops one).
func rewrite(t *testing.T, data []byte, edit func(h *tar.Header, body []byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if body = edit(h, body); body == nil {
			continue
		}
		h.Size = int64(len(body))
		tw.WriteHeader(h)
		tw.Write(body)
	}
	tw.Close()
	return out.Bytes()
}

// A damaged, cut or foreign archive is refused and the data dir stays as
// it was; so is a data dir that is not empty, unless --force, which moves
// its contents aside.
func TestRestoreRefuses(t *testing.T) {
	good := archive(t, dataDir(t))
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"cut": {rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == "parley-backup-end.json" {
				return nil
			}
			return b
		}), "cut short"},
		"bad file": {rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if strings.HasPrefix(h.Name, "blobs/") {
				return []byte("other bytes")
			}
			return b
		}), "does not match"},
		"file lost": {rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if strings.HasPrefix(h.Name, "blobs/") {
				return nil
			}
			return b
		}), "damaged"},
		"bad database": {rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == "parley.db" {
				return bytes.Repeat([]byte("x"), len(b))
			}
			return b
		}), "not a readable database"},
		"newer format": {rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == "parley-backup.json" {
				return bytes.Replace(b, []byte(`"format": 1`), []byte(`"format": 2`), 1)
			}
			return b
		}), "format is 2"},
		"not a backup": {[]byte("hello"), "not a Parley backup"},
		"truncated":    {good[:len(good)/2], "cut short"},
	} {
		dst := filepath.Join(t.TempDir(), "data")
		_, _, err := backup.Restore(t.Context(), bytes.NewReader(c.data), backup.RestoreOptions{DataDir: dst})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Errorf("%s: the refused restore left the data dir", name)
		}
	}

	full := dataDir(t)
	os.WriteFile(filepath.Join(full, "notes.txt"), []byte("mine"), 0o600)
	if _, _, err := backup.Restore(t.Context(), bytes.NewReader(good), backup.RestoreOptions{DataDir: full}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a full data dir: %v", err)
	}
	if _, _, err := backup.Restore(context.Background(), bytes.NewReader(good), backup.RestoreOptions{DataDir: full, Force: true}); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(full, "before-restore-*", "notes.txt"))
	if len(aside) != 1 {
		t.Fatal("--force did not move the data dir's contents aside")
	}
	if _, err := os.Stat(filepath.Join(full, "parley.db")); err != nil {
		t.Fatal(err)
	}
}
