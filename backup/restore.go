package backup

import (
	"archive/tar"
	"bufio"
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

// ErrNotEmpty is Restore's answer for a data dir that holds something,
// when not told to move it aside.
var ErrNotEmpty = errors.New("not empty")

// maxJSON bounds the manifest and summary entries read.
const maxJSON = 1 << 20

// RestoreOptions says where and how Restore writes.
type RestoreOptions struct {
	// DataDir receives parley.db and blobs/. It must be empty or missing
	// (a lost+found folder aside), unless Force.
	DataDir string
	// Force moves what the data dir holds into a folder
	// before-restore-<time> inside it, after the archive has been read
	// whole and checked, and just before the restored data takes its
	// place. Stop every node using the data dir first.
	Force bool
}

// Restore reads an archive written by Write (plain or gzip-compressed) from
// r into o.DataDir. It unpacks into a folder of its own inside the data
// dir, checks every file against its hash, the database (quick_check, a
// schema this build knows) and the archive's summary, and only then moves
// the database and files into place: on any error the data dir is left as
// it was. It returns the archive's summary, with Missing listing the files
// the database uses that the archive lacks.
func Restore(ctx context.Context, r io.Reader, o RestoreOptions) (man Manifest, sum Summary, err error) {
	if err := checkEmpty(o.DataDir, o.Force); err != nil {
		return man, sum, err
	}
	if _, err := os.Stat(o.DataDir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return man, sum, err
		}
		defer func() {
			if err != nil {
				os.Remove(o.DataDir) // made here, and empty again
			}
		}()
	}
	stage, err := os.MkdirTemp(o.DataDir, ".restore-")
	if err != nil {
		return man, sum, err
	}
	defer os.RemoveAll(stage)

	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return man, sum, fmt.Errorf("not a Parley backup: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	blobs, err := disk.Open(filepath.Join(stage, "blobs"))
	if err != nil {
		return man, sum, err
	}
	var got Summary
	haveDB, ended := false, false
	for first := true; ; first = false {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			if first {
				return man, sum, fmt.Errorf("not a Parley backup: %w", err)
			}
			return man, sum, fmt.Errorf("the backup is damaged or cut short: %w", err)
		}
		if ended {
			return man, sum, fmt.Errorf("the backup has %s after its end", h.Name)
		}
		switch name := h.Name; {
		case first:
			if name != manifestName {
				return man, sum, fmt.Errorf("not a Parley backup (it starts with %q, not %s)", name, manifestName)
			}
			if err := readJSON(tr, &man); err != nil {
				return man, sum, fmt.Errorf("not a Parley backup: %s: %w", manifestName, err)
			}
			if man.Format != Format {
				return man, sum, fmt.Errorf("the backup's format is %d; this parley reads format %d", man.Format, Format)
			}
		case name == databaseName && !haveDB && h.Typeflag == tar.TypeReg:
			if err := writeSynced(filepath.Join(stage, databaseName), tr); err != nil {
				return man, sum, fmt.Errorf("restore the database: %w", cutShort(err))
			}
			haveDB = true
			got.DatabaseBytes = h.Size
		case strings.HasPrefix(name, blobsPrefix) && h.Typeflag == tar.TypeReg:
			key := strings.TrimPrefix(name, blobsPrefix)
			if err := blobs.Put(ctx, key, tr, h.Size); err != nil {
				if errors.Is(err, parley.ErrBlobMismatch) || errors.Is(err, parley.ErrBadBlobKey) {
					return man, sum, fmt.Errorf("the backup is damaged: file %s does not match its name", key)
				}
				return man, sum, fmt.Errorf("restore file %s: %w", key, cutShort(err))
			}
			got.Files++
			got.FileBytes += h.Size
		case name == endName:
			if err := readJSON(tr, &sum); err != nil {
				return man, sum, fmt.Errorf("the backup is damaged: %s: %w", endName, err)
			}
			ended = true
		default:
			return man, sum, fmt.Errorf("the backup holds %q, which no Parley backup has", name)
		}
		if err := ctx.Err(); err != nil {
			return man, sum, err
		}
	}
	switch {
	case !ended:
		return man, sum, fmt.Errorf("the backup is cut short: it has no %s (was the backup interrupted?)", endName)
	case !haveDB:
		return man, sum, fmt.Errorf("the backup holds no database")
	case got.Files != sum.Files || got.FileBytes != sum.FileBytes || got.DatabaseBytes != sum.DatabaseBytes:
		return man, sum, fmt.Errorf("the backup is damaged: it holds %d files (%d bytes) and a database of %d bytes; its summary says %d, %d and %d",
			got.Files, got.FileBytes, got.DatabaseBytes, sum.Files, sum.FileBytes, sum.DatabaseBytes)
	}
	info, err := sqlite.Inspect(ctx, filepath.Join(stage, databaseName))
	if err != nil {
		return man, sum, err
	}
	if latest := sqlite.LatestSchema(); info.Schema > latest {
		return man, sum, fmt.Errorf("the backup was made by a newer Parley (%s, schema %d; this one knows schema %d): restore it with that version or newer", man.Parley, info.Schema, latest)
	}
	sum.Missing = nil
	for _, key := range info.BlobKeys {
		if _, err := blobs.Stat(ctx, key); err != nil && !sum.NoFiles {
			sum.Missing = append(sum.Missing, key)
		}
	}

	if o.Force {
		if err := moveAside(o.DataDir, stage); err != nil {
			return man, sum, err
		}
	}
	os.RemoveAll(filepath.Join(stage, "blobs", "tmp"))
	for _, name := range []string{databaseName, "blobs"} {
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(o.DataDir, name)); err != nil {
			return man, sum, err
		}
	}
	return man, sum, syncDir(o.DataDir)
}

// cutShort names the error of an archive that ends inside an entry.
func cutShort(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the backup is cut short: %w", err)
	}
	return err
}

// checkEmpty refuses a data dir that holds anything but lost+found, unless
// force.
func checkEmpty(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Name() != "lost+found" {
			names = append(names, e.Name())
		}
	}
	if len(names) > 0 && !force {
		if len(names) > 3 {
			names = append(names[:3], "…")
		}
		return fmt.Errorf("the data dir %s is %w (it holds %s): restore into an empty folder, or give --force to move what it holds into a folder before-restore-<time> inside it (stop the server first)",
			dir, ErrNotEmpty, strings.Join(names, ", "))
	}
	return nil
}

// moveAside moves everything in dir but stage, lost+found and earlier
// before-restore folders into dir/before-restore-<time>.
func moveAside(dir, stage string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	aside := filepath.Join(dir, "before-restore-"+time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Mkdir(aside, 0o700); err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if n == filepath.Base(stage) || n == "lost+found" || strings.HasPrefix(n, "before-restore-") {
			continue
		}
		if err := os.Rename(filepath.Join(dir, n), filepath.Join(aside, n)); err != nil {
			return err
		}
	}
	return nil
}

func readJSON(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, maxJSON+1))
	if err != nil {
		return err
	}
	if len(b) > maxJSON {
		return fmt.Errorf("too large")
	}
	return json.Unmarshal(b, v)
}

func writeSynced(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
