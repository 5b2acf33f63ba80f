package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"parley/app"
	"parley/backup"
)

// backupHooks, if set by a test, run around the database snapshot.
var backupHooks struct{ before, after func() }

// backupCmd is `parley backup --to FILE`: an archive of the data dir while
// the server runs (package backup).
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("backup", getenv, stderr)
	to := f.String("to", "PARLEY_BACKUP_TO", "", "file to write (a tar; .tar.gz or .tgz: compressed; -: standard output)")
	dataDir := f.String("data-dir", "PARLEY_DATA_DIR", app.DefaultDataDir, "the data dir of the node to back up (as for serve)")
	dbURL := f.Secret("database-url", "PARLEY_DATABASE_URL", "PostgreSQL URL, as for serve: refused, PostgreSQL is backed up with pg_dump")
	storage := f.String("storage-url", "PARLEY_STORAGE_URL", "", "as for serve: when set, files are in S3 and left out of the backup")
	if err := f.parse(args); err != nil {
		if !isHelp(err) {
			err = fmt.Errorf("%w (see 'parley backup -h')", err)
		}
		return err
	}
	if *dbURL != "" {
		return fmt.Errorf("the store is PostgreSQL: back it up with pg_dump (or continuous archiving for point-in-time recovery), and the files with your S3 storage's own tools; see docs/deploy.md, Backups")
	}
	if *to == "" {
		return fmt.Errorf("--to is required: the file to write (see 'parley backup -h')")
	}
	out := stdout
	if *to == "-" {
		out = stderr // the archive goes to stdout: report on stderr
	}
	start := time.Now()
	sum, err := backup.WriteFile(ctx, *to, stdout, backup.Options{DataDir: *dataDir, NoFiles: *storage != "", Version: version,
		BeforeSnapshot: backupHooks.before, AfterSnapshot: backupHooks.after})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	files := fmt.Sprintf("%d files (%s)", sum.Files, mib(sum.FileBytes))
	if sum.NoFiles {
		files = "no files (they are in S3: back the bucket up with its own tools)"
	}
	fmt.Fprintf(out, "Backed up %s to %s in %s: the database (%s, schema %d) and %s.\n",
		*dataDir, *to, time.Since(start).Round(time.Millisecond), mib(sum.DatabaseBytes), sum.Schema, files)
	if len(sum.Missing) > 0 {
		fmt.Fprintf(out, "Warning: %d files the database uses were deleted while the backup ran and are not in it; their messages will show them as missing.\n", len(sum.Missing))
	}
	return nil
}

// restoreCmd is `parley restore --from FILE`: a backup into an empty data
// dir.
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	f := newFlags("restore", getenv, stderr)
	from := f.String("from", "PARLEY_RESTORE_FROM", "", "backup file written by 'parley backup' (-: standard input)")
	dataDir := f.String("data-dir", "PARLEY_DATA_DIR", app.DefaultDataDir, "data dir to restore into: empty or missing, unless --force")
	force := f.Bool("force", "PARLEY_RESTORE_FORCE", false, "restore into a data dir that holds something: move what it holds into before-restore-<time> inside it first (stop the server first)")
	if err := f.parse(args); err != nil {
		if !isHelp(err) {
			err = fmt.Errorf("%w (see 'parley restore -h')", err)
		}
		return err
	}
	if *from == "" {
		return fmt.Errorf("--from is required: the backup file (see 'parley restore -h')")
	}
	in := stdin
	if *from != "-" {
		file, err := os.Open(*from)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer file.Close()
		in = file
	}
	start := time.Now()
	man, sum, err := backup.Restore(ctx, in, backup.RestoreOptions{DataDir: *dataDir, Force: *force})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "Restored the backup of %s (parley %s) into %s in %s: the database (%s, schema %d) and %d files (%s). Start the server with --data-dir %s.\n",
		man.Created.Format(time.RFC3339), man.Parley, *dataDir, time.Since(start).Round(time.Millisecond),
		mib(sum.DatabaseBytes), sum.Schema, sum.Files, mib(sum.FileBytes), *dataDir)
	if sum.NoFiles {
		fmt.Fprintln(stdout, "The backup holds no files: they were in S3; point --storage-url at the bucket.")
	} else if len(sum.Missing) > 0 {
		fmt.Fprintf(stdout, "Warning: %d files the database uses are not in the backup; their messages will show them as missing.\n", len(sum.Missing))
	}
	return nil
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
