// Package disk implements parley.Blobs in a folder, the default storage of
// a single-machine deployment.
//
// A blob with key k (its SHA-256 in hex) is the file k[0:2]/k[2:4]/k in the
// folder. Put writes the bytes to a temporary file in the folder's tmp/,
// checks their hash and length, fsyncs the file, renames it into place and
// fsyncs the directory: a blob is either whole under its name or absent,
// also after a crash. Temporary files left by a crash are removed when the
// folder is next opened.
package disk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"parley"
)

// staleTemp is the age past which a temporary file found at Open is taken
// for a crash's leftover and removed.
const staleTemp = time.Hour

// Blobs is a parley.Blobs in a folder. It is safe for concurrent use, also
// by several processes sharing the folder.
type Blobs struct {
	dir string
	tmp string
}

var _ parley.Blobs = (*Blobs)(nil)

// Open opens (creating if needed) the blob folder dir.
func Open(dir string) (*Blobs, error) {
	b := &Blobs{dir: dir, tmp: filepath.Join(dir, "tmp")}
	if err := os.MkdirAll(b.tmp, 0o700); err != nil {
		return nil, fmt.Errorf("disk: create %s: %w", b.tmp, err)
	}
	entries, err := os.ReadDir(b.tmp)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(b.tmp, e.Name()))
		}
	}
	return b, nil
}

// Dir is the folder.
func (b *Blobs) Dir() string { return b.dir }

func (b *Blobs) path(key string) string {
	return filepath.Join(b.dir, key[0:2], key[2:4], key)
}

// Put stores size bytes from r under key: temporary file, hash check,
// fsync, rename, fsync of the directory.
func (b *Blobs) Put(ctx context.Context, key string, r io.Reader, size int64) (err error) {
	if !parley.ValidBlobKey(key) {
		return parley.ErrBadBlobKey
	}
	if size < 0 {
		return parley.ErrBlobMismatch
	}
	f, err := os.CreateTemp(b.tmp, "put-*")
	if err != nil {
		return ioErr(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx, r}, size+1))
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("disk: put %s: %w", key, ioErr(err))
	case n != size || hex.EncodeToString(h.Sum(nil)) != key:
		return parley.ErrBlobMismatch
	}
	if err := f.Sync(); err != nil {
		return ioErr(err)
	}
	if err := f.Close(); err != nil {
		return ioErr(err)
	}
	final := b.path(key)
	if err := mkdirSynced(filepath.Dir(final)); err != nil {
		return ioErr(err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return ioErr(err)
	}
	return ioErr(syncDir(filepath.Dir(final)))
}

// Open opens a blob.
func (b *Blobs) Open(ctx context.Context, key string) (parley.Blob, error) {
	if !parley.ValidBlobKey(key) {
		return nil, parley.ErrBadBlobKey
	}
	f, err := os.Open(b.path(key))
	if err != nil {
		return nil, ioErr(err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ioErr(err)
	}
	return &file{f, info.Size()}, nil
}

type file struct {
	*os.File
	size int64
}

func (f *file) Size() int64 { return f.size }

// Keys calls fn with the key and size of each blob in the folder, in no
// set order, stopping at fn's first error. Temporary files and anything
// else that is not a blob are skipped. Blobs put or deleted meanwhile may
// or may not be seen.
func (b *Blobs) Keys(fn func(key string, size int64) error) error {
	return filepath.WalkDir(b.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted meanwhile
			}
			return err
		}
		rel, _ := filepath.Rel(b.dir, path)
		depth := strings.Count(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if path != b.dir && (depth > 1 || len(d.Name()) != 2) {
				return filepath.SkipDir // tmp/ and strangers
			}
			return nil
		}
		key := d.Name()
		if depth != 2 || !parley.ValidBlobKey(key) || b.path(key) != path {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		return fn(key, info.Size())
	})
}

// Stat returns a blob's size.
func (b *Blobs) Stat(ctx context.Context, key string) (int64, error) {
	if !parley.ValidBlobKey(key) {
		return 0, parley.ErrBadBlobKey
	}
	info, err := os.Stat(b.path(key))
	if err != nil {
		return 0, ioErr(err)
	}
	return info.Size(), nil
}

// Delete removes a blob; a missing one is not an error.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	if !parley.ValidBlobKey(key) {
		return parley.ErrBadBlobKey
	}
	if err := os.Remove(b.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioErr(err)
	}
	return nil
}

// mkdirSynced creates dir and its missing parents, fsyncing each parent
// that gained an entry, so that a rename into dir survives a crash.
func mkdirSynced(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := mkdirSynced(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ioErr maps file system errors: a missing file is ENOTFOUND, a full or
// failing disk is unavailable, anything else (a bug) passes through.
func ioErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return parley.ErrNotFound
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EIO), errors.Is(err, syscall.EDQUOT),
		errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
	}
	return err
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
