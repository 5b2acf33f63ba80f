// Package backup copies a single-machine node's data — the SQLite database
// and the files folder of its data dir — into one archive while the node
// runs and writes, and restores such an archive into an empty data dir.
//
// # The archive
//
// A tar file (gzip-compressed when its name ends in .gz or .tgz) holding,
// in this order:
//
//	parley-backup.json      format, Parley version, time started
//	blobs/<key>             files (content-addressed: key = SHA-256 of the bytes)
//	parley.db               the database, a consistent snapshot (VACUUM INTO)
//	blobs/<key>             files the snapshot uses that were not copied yet
//	parley-backup-end.json  schema version, counts; its absence means a cut archive
//
// # Consistency while the node writes
//
// The database copy is one transaction's view: every message acknowledged
// before the backup started is in it. Files are immutable and named by
// their hash, so a file copied is right whenever it was copied; what
// matters is that every file the snapshot uses is in the archive. Files are
// therefore copied twice over: all of them before the snapshot (a file the
// snapshot uses existed then, unless it arrived meanwhile), then after it
// the ones the snapshot uses that were not copied. A file that arrived
// after the first pass and was deleted again before the second (its message
// deleted within the backup's run) is reported as missing.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"parley"
	"parley/disk"
	"parley/sqlite"
)

// Format is the archive format this package writes and reads.
const Format = 1

const (
	manifestName = "parley-backup.json"
	endName      = "parley-backup-end.json"
	databaseName = "parley.db"
	blobsPrefix  = "blobs/"
)

// Manifest is the archive's first entry.
type Manifest struct {
	Format  int       `json:"format"`
	Parley  string    `json:"parley"` // version of the parley that wrote it
	Created time.Time `json:"created"`
}

// Summary is the archive's last entry and what Write and Restore report.
type Summary struct {
	// Schema is the database's newest migration.
	Schema        int64 `json:"schema"`
	DatabaseBytes int64 `json:"database_bytes"`
	// Files and FileBytes count the files in the archive.
	Files     int   `json:"files"`
	FileBytes int64 `json:"file_bytes"`
	// Missing are files the database uses that the archive lacks (see the
	// package comment).
	Missing []string `json:"missing,omitempty"`
	// NoFiles says the files were not backed up (they are in S3).
	NoFiles bool `json:"no_files,omitempty"`
}

// Options says what Write copies.
type Options struct {
	// DataDir is the node's data dir: parley.db and blobs/.
	DataDir string
	// NoFiles leaves the files folder out (the node keeps files in S3).
	NoFiles bool
	// Version is written in the manifest.
	Version string
	// TempDir holds the database snapshot while it is archived. Zero
	// value: os.TempDir.
	TempDir string
	// BeforeSnapshot and AfterSnapshot, if set, run just before and after
	// the database snapshot (tests write meanwhile).
	BeforeSnapshot, AfterSnapshot func()
}

// Write writes an archive of o.DataDir to w. It only reads the data dir.
func Write(ctx context.Context, w io.Writer, o Options) (Summary, error) {
	var sum Summary
	dbPath := filepath.Join(o.DataDir, databaseName)
	if _, err := os.Stat(dbPath); err != nil {
		return sum, fmt.Errorf("no Parley database in %s (%s): %w", o.DataDir, databaseName, errors.Unwrap(err))
	}
	tw := tar.NewWriter(w)
	now := time.Now().UTC()
	if err := writeJSON(tw, manifestName, now, Manifest{Format: Format, Parley: o.Version, Created: now}); err != nil {
		return sum, err
	}
	var blobs *disk.Blobs
	copied := map[string]bool{}
	addBlob := func(key string) error {
		if copied[key] {
			return nil
		}
		b, err := blobs.Open(ctx, key)
		if errors.Is(err, parley.ErrNotFound) {
			return nil // deleted meanwhile
		} else if err != nil {
			return fmt.Errorf("file %s: %w", key, err)
		}
		defer b.Close()
		if err := tw.WriteHeader(&tar.Header{Name: blobsPrefix + key, Mode: 0o600, Size: b.Size(), ModTime: now, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := io.Copy(tw, b); err != nil {
			return fmt.Errorf("file %s: %w", key, err)
		}
		copied[key] = true
		sum.Files++
		sum.FileBytes += b.Size()
		return ctx.Err()
	}
	sum.NoFiles = o.NoFiles
	if !o.NoFiles {
		// Not disk.Open: it would create the folder, and a backup only reads.
		if _, err := os.Stat(filepath.Join(o.DataDir, "blobs")); err == nil {
			b, err := disk.Open(filepath.Join(o.DataDir, "blobs"))
			if err != nil {
				return sum, err
			}
			blobs = b
			if err := blobs.Keys(func(key string, _ int64) error { return addBlob(key) }); err != nil {
				return sum, err
			}
		}
	}

	tmp, err := os.MkdirTemp(o.TempDir, "parley-backup-")
	if err != nil {
		return sum, err
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, databaseName)
	if o.BeforeSnapshot != nil {
		o.BeforeSnapshot()
	}
	if err := sqlite.Snapshot(ctx, dbPath, snap); err != nil {
		return sum, err
	}
	if o.AfterSnapshot != nil {
		o.AfterSnapshot()
	}
	info, err := sqlite.Inspect(ctx, snap)
	if err != nil {
		return sum, err
	}
	sum.Schema = info.Schema
	if err := addFile(tw, databaseName, snap, now, &sum.DatabaseBytes); err != nil {
		return sum, err
	}
	if !o.NoFiles {
		for _, key := range info.BlobKeys {
			if blobs != nil {
				if err := addBlob(key); err != nil {
					return sum, err
				}
			}
			if !copied[key] {
				sum.Missing = append(sum.Missing, key)
			}
		}
	}
	if err := writeJSON(tw, endName, now, sum); err != nil {
		return sum, err
	}
	return sum, tw.Close()
}

func writeJSON(tw *tar.Writer, name string, mod time.Time, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: mod, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err = tw.Write(b)
	return err
}

func addFile(tw *tar.Writer, name, path string, mod time.Time, size *int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: mod, Format: tar.FormatPAX}); err != nil {
		return err
	}
	*size = st.Size()
	_, err = io.Copy(tw, f)
	return err
}

// WriteFile writes an archive into the file path ("-": w), gzip-compressed
// if path ends in .gz or .tgz. The file appears whole or not at all: it is
// written beside path, synced, then renamed over it.
func WriteFile(ctx context.Context, path string, stdout io.Writer, o Options) (Summary, error) {
	if path == "-" {
		return Write(ctx, stdout, o)
	}
	dir := filepath.Dir(path)
	if o.TempDir == "" {
		o.TempDir = dir
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return Summary{}, err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name()) // gone after the rename
	}()
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") || strings.HasSuffix(path, ".tgz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	sum, err := Write(ctx, w, o)
	if err != nil {
		return sum, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return sum, err
		}
	}
	if err := f.Sync(); err != nil {
		return sum, err
	}
	if err := f.Close(); err != nil {
		return sum, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return sum, err
	}
	return sum, nil
}
