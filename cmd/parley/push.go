package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"parley"
	"parley/app"
	"parley/postgres"
	"parley/push"
	"parley/sqlite"
)

// pushFlags declares the Web Push settings and returns what applies them.
func pushFlags(f *flags) func(cfg *app.Config) error {
	delay := f.Duration("push-delay", "PARLEY_PUSH_DELAY", push.DefaultDelay, "a message no device of a member has after this long is pushed to the member's subscriptions")
	allowed := f.String("push-allowed-hosts", "PARLEY_PUSH_ALLOWED_HOSTS", "", "comma-separated host:port pairs pushes may go to besides the public push services, even on private or loopback addresses and over plain http (a testing setting)")
	subject := f.String("push-subject", "PARLEY_PUSH_SUBJECT", push.DefaultSubject, "VAPID subject: a mailto: or https: URL where push services can reach the operator (Apple refuses placeholder addresses)")
	workers := f.Int("push-workers", "PARLEY_PUSH_WORKERS", push.DefaultWorkers, "pushes this node sends at once")
	perHost := f.Int("push-per-host", "PARLEY_PUSH_PER_HOST", push.DefaultPerHost, "pushes this node sends at once to one push service")
	return func(cfg *app.Config) error {
		if *delay < 100*time.Millisecond || *delay > time.Hour {
			return fmt.Errorf("--push-delay must be between 100ms and 1h")
		}
		if *workers < 1 || *perHost < 1 || *perHost > *workers {
			return fmt.Errorf("--push-workers must be at least 1 and --push-per-host between 1 and --push-workers")
		}
		cfg.Push = push.Config{Delay: *delay, AllowedHosts: splitList(*allowed), Subject: *subject,
			Workers: *workers, PerHost: *perHost}
		if _, err := push.NewGuard(cfg.Push.AllowedHosts); err != nil {
			return fmt.Errorf("--push-allowed-hosts: %w", err)
		}
		return nil
	}
}

// vapid prints the deployment's VAPID public key (making the key if there
// is none), or with --rotate replaces it.
func vapid(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("vapid", getenv, stderr)
	dataDir := f.String("data-dir", "PARLEY_DATA_DIR", app.DefaultDataDir, "folder of the SQLite database (when no database URL is set)")
	dbURL := f.Secret("database-url", "PARLEY_DATABASE_URL", "PostgreSQL URL (postgres://...); empty uses SQLite in the data dir")
	rotate := f.Bool("rotate", "PARLEY_VAPID_ROTATE", false, "replace the key with a new one: every push subscription is deleted (browsers subscribe again when the app next opens); restart every node afterwards")
	if err := f.parse(args); err != nil {
		return err
	}
	var (
		store parley.Store
		err   error
	)
	if *dbURL != "" {
		store, err = postgres.Open(ctx, *dbURL)
	} else {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		store, err = sqlite.Open(ctx, filepath.Join(*dataDir, "parley.db"))
	}
	if err != nil {
		return fmt.Errorf("open the store: %w", err)
	}
	defer store.Close()
	if *rotate {
		k, err := push.NewVAPIDKey(time.Now())
		if err != nil {
			return err
		}
		n, err := store.RotateVAPIDKey(ctx, k)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "New VAPID key stored; %d push subscriptions deleted. Restart every node.\n", n)
		fmt.Fprintln(stdout, k.Public)
		return nil
	}
	k, err := push.LoadKey(ctx, store, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.Public)
	return nil
}
