package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck is `parley healthcheck`: it asks the node listening on --addr
// (PARLEY_ADDR, as for serve) for /readyz and exits 0 when it answers 200.
// For container health checks in images with no shell or curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("healthcheck", getenv, stderr)
	addr := f.String("addr", "PARLEY_ADDR", "127.0.0.1:8080", "the address serve listens on (a wildcard host, like 0.0.0.0 or [::], is asked on loopback)")
	path := f.String("path", "PARLEY_HEALTHCHECK_PATH", "/readyz", "/readyz (serving and its store answers) or /healthz (the process runs)")
	timeout := f.Duration("timeout", "PARLEY_HEALTHCHECK_TIMEOUT", 5*time.Second, "time limit")
	if err := f.parse(args); err != nil {
		if !isHelp(err) {
			err = fmt.Errorf("%w (see 'parley healthcheck -h')", err)
		}
		return err
	}
	if *path != "/readyz" && *path != "/healthz" {
		return fmt.Errorf("--path must be /readyz or /healthz")
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + *path
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, res.Status)
	}
	fmt.Fprintf(stdout, "%s: %s\n", url, res.Status)
	return nil
}
