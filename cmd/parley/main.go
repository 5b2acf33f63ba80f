// Command parley runs a Parley node (serve), the load generator (bench) and
// admin verbs.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

const usage = `Usage: parley <command> [flags]

Commands:
  serve        run a Parley node (web app, REST API, WebSocket)
  bench        load generator: fanout, pairs, connect, catchup, auth
  backup       copy the data dir (SQLite database and files) into one file, while serve runs
  restore      restore a backup into an empty data dir
  admin        manage accounts, invitations and see figures, on serve's store ('parley admin -h')
  vapid        print the Web Push (VAPID) public key; --rotate replaces it
  healthcheck  exit 0 if the node at --addr is ready (for container health checks)
  version      print the version

Run 'parley <command> -h' for the command's flags. Every flag can also be
set with the PARLEY_* environment variable named next to it.
`

// version is set at build time with -ldflags "-X main.version=..." (the
// Makefile stamps the git tag or commit).
var version = "dev"

// run is main with its dependencies passed in, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[1] {
	case "serve":
		if err := serve(ctx, args[2:], getenv, stdout, stderr); !isHelp(err) {
			return err
		}
		return nil
	case "bench":
		return bench(ctx, args[2:], getenv, stdout, stderr)
	case "vapid":
		if err := vapid(ctx, args[2:], getenv, stdout, stderr); !isHelp(err) {
			return err
		}
		return nil
	case "backup":
		if err := backupCmd(ctx, args[2:], getenv, stdout, stderr); !isHelp(err) {
			return err
		}
		return nil
	case "restore":
		if err := restoreCmd(ctx, args[2:], getenv, stdin, stdout, stderr); !isHelp(err) {
			return err
		}
		return nil
	case "admin":
		return adminCmd(ctx, args[2:], getenv, stdin, stdout, stderr)
	case "healthcheck":
		if err := healthcheck(ctx, args[2:], getenv, stdout, stderr); !isHelp(err) {
			return err
		}
		return nil
	case "version":
		web := "web app embedded"
		if !webBuilt() {
			web = "web app not built"
		}
		fmt.Fprintf(stdout, "parley %s (%s, %s/%s, %s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, web)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[1])
}
