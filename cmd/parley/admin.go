package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"parley"
	"parley/app"
	"parley/hub"
	pnats "parley/nats"
	"parley/postgres"
	"parley/service"
	"parley/sqlite"
)

const adminUsage = `Usage: parley admin <verb> [arguments] [flags]

Works on the store serve uses (--data-dir or --database-url, as for serve),
also while serve runs. Flags may come anywhere after the verb.

Verbs:
  user create NAME [--email E] [--admin] [--password-stdin]
                              create an account, whatever the sign-up policy;
                              without --password-stdin, print a one-time link
                              for its owner to set a password
  user list [--prefix P]      list accounts (id, role, created, last seen, disabled)
  user reset-password NAME [--password-stdin]
                              print a one-time password reset link (or set the
                              password read from standard input); every
                              session of the account ends
  user set-admin NAME [--revoke]
                              make NAME an admin of the instance (--revoke: a member)
  user disable NAME           disable an account: it cannot log in, its sessions end
  user enable NAME            enable it again
  user delete NAME --yes      delete an account (messages stay, from "Deleted account")
  invite create [--uses N] [--expires 168h]
                              create an invitation (for --signup invite)
  stats                       the instance's figures

Common flags:
  --data-dir DIR, --database-url URL (--database-url-file FILE)
  --nats-url URL, --nats-prefix P   with many nodes: tell them at once (sessions
                                    of disabled accounts end immediately)
  --url URL                         the server's public address, to print whole links
  --json                            print JSON instead of text
`

// adminCmd is `parley admin …`.
func adminCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var verb []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && len(verb) < 2 {
		verb = append(verb, args[0])
		args = args[1:]
		if len(verb) == 1 && verb[0] != "user" && verb[0] != "invite" {
			break
		}
	}
	name := strings.Join(verb, " ")
	known := map[string]bool{"user create": true, "user list": true, "user reset-password": true, "user set-admin": true,
		"user disable": true, "user enable": true, "user delete": true, "invite create": true, "stats": true}
	if !known[name] {
		if name == "" && len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, adminUsage)
			return nil
		}
		fmt.Fprint(stderr, adminUsage)
		if name == "" {
			return fmt.Errorf("admin: no verb given")
		}
		return fmt.Errorf("admin: unknown verb %q", name)
	}

	f := newFlags("admin "+name, getenv, stderr)
	dataDir := f.String("data-dir", "PARLEY_DATA_DIR", app.DefaultDataDir, "folder of the SQLite database (when no database URL is set), as for serve")
	dbURL := f.Secret("database-url", "PARLEY_DATABASE_URL", "PostgreSQL URL, as for serve")
	natsURL := f.Secret("nats-url", "PARLEY_NATS_URL", "NATS URL of the nodes: disabled accounts' and reset passwords' sockets close at once on every node")
	natsPrefix := f.String("nats-prefix", "PARLEY_NATS_PREFIX", "", "prefix for NATS subjects, as for serve")
	baseURL := f.String("url", "PARLEY_PUBLIC_URL", "", "the server's public address (https://chat.example.com), to print whole links")
	asJSON := f.FlagSet.Bool("json", false, "print JSON")
	email := f.FlagSet.String("email", "", "email address of the new account")
	makeAdmin := f.FlagSet.Bool("admin", false, "the new account is an admin")
	passwordStdin := f.FlagSet.Bool("password-stdin", false, "read the password from the first line of standard input")
	prefix := f.FlagSet.String("prefix", "", "list only accounts whose username or email starts with this")
	revoke := f.FlagSet.Bool("revoke", false, "make the user a member instead")
	yes := f.FlagSet.Bool("yes", false, "yes, delete the account")
	uses := f.FlagSet.Int("uses", 1, "sign-ups the invitation allows (1 to 1000)")
	expires := f.FlagSet.Duration("expires", parley.InvitationTTLDefault, "how long the invitation lasts (1h to 2160h)")
	var pos []string
	for {
		if err := f.parse(args); err != nil {
			if isHelp(err) {
				fmt.Fprint(stdout, adminUsage)
				return nil
			}
			return fmt.Errorf("%w (see 'parley admin -h')", err)
		}
		if args = f.Args(); len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	wantArgs := 1
	if name == "user list" || name == "invite create" || name == "stats" {
		wantArgs = 0
	}
	if len(pos) != wantArgs {
		if wantArgs == 0 {
			return fmt.Errorf("admin %s takes no arguments, got %q (see 'parley admin -h')", name, strings.Join(pos, " "))
		}
		return fmt.Errorf("admin %s needs the account's username (see 'parley admin -h')", name)
	}

	var store parley.Store
	var err error
	if *dbURL != "" {
		if store, err = postgres.Open(ctx, *dbURL); err != nil {
			return fmt.Errorf("open PostgreSQL: %w", err)
		}
	} else {
		path := filepath.Join(*dataDir, "parley.db")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && name != "user create" {
			return fmt.Errorf("no Parley database in %s: give the data dir serve uses (--data-dir) or its --database-url", *dataDir)
		}
		if store, err = sqlite.Open(ctx, path); err != nil {
			return fmt.Errorf("open SQLite in %s: %w", *dataDir, err)
		}
	}
	store = parley.WithTimeout(store, 30*time.Second)
	defer store.Close()
	var bus parley.Bus = hub.NewBus()
	if *natsURL != "" {
		opts := []pnats.Option{pnats.WithName("parley-admin")}
		if *natsPrefix != "" {
			opts = append(opts, pnats.WithSubjectPrefix(*natsPrefix))
		}
		if bus, err = pnats.Open(*natsURL, opts...); err != nil {
			return fmt.Errorf("connect to NATS: %w", err)
		}
	}
	defer bus.Close()
	svc, err := service.New(store, bus, service.Config{}, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	a := &adminRun{out: stdout, json: *asJSON, base: strings.TrimRight(*baseURL, "/")}
	readPassword := func() (string, error) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("--password-stdin: no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	op := service.Operator

	switch name {
	case "user create":
		password := ""
		if *passwordStdin {
			if password, err = readPassword(); err != nil {
				return err
			}
		}
		u, token, err := svc.CreateAccount(ctx, op, pos[0], *email, password, *makeAdmin)
		if err != nil {
			return adminErr(err)
		}
		return a.print(map[string]any{"user": u, "reset_link": a.link(token)}, func(w io.Writer) {
			fmt.Fprintf(w, "Created %s (%s, id %d).\n", u.Username, u.Role, u.ID)
			if token != "" {
				fmt.Fprintf(w, "Its owner sets a password at %s (once, within 24 hours).\n", a.link(token))
			}
		})
	case "user list":
		var all []parley.User
		var after int64
		for {
			page, err := svc.AdminUsers(ctx, op, *prefix, after, parley.PageSizeMax)
			if err != nil {
				return adminErr(err)
			}
			all = append(all, page...)
			if len(page) < parley.PageSizeMax {
				break
			}
			after = page[len(page)-1].ID
		}
		if all == nil {
			all = []parley.User{}
		}
		return a.print(map[string]any{"users": all}, func(w io.Writer) {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tROLE\tCREATED\tLAST SEEN\tSTATUS")
			for _, u := range all {
				seen, status := "-", "active"
				if u.LastSeen != nil {
					seen = u.LastSeen.Format(time.DateTime)
				}
				if u.DisabledAt != nil {
					status = "disabled " + u.DisabledAt.Format(time.DateOnly)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, or(u.Email, "-"), u.Role, u.CreatedAt.Format(time.DateTime), seen, status)
			}
			tw.Flush()
			fmt.Fprintf(w, "%d accounts\n", len(all))
		})
	case "invite create":
		if *uses < 1 {
			return fmt.Errorf("--uses must be 1 to %d", parley.InvitationUsesMax)
		}
		inv, err := svc.CreateInvitation(ctx, op, *uses, *expires)
		if err != nil {
			return adminErr(err)
		}
		link := a.base + "/signup?invite=" + inv.Code
		return a.print(map[string]any{"invitation": inv, "link": link}, func(w io.Writer) {
			fmt.Fprintf(w, "Invitation for %d sign-up(s) until %s:\n%s\n", inv.MaxUses, inv.ExpiresAt.Format(time.DateTime+" MST"), link)
		})
	case "stats":
		st, err := svc.Stats(ctx, op)
		if err != nil {
			return adminErr(err)
		}
		return a.print(map[string]any{"stats": st}, func(w io.Writer) {
			fmt.Fprintf(w, "users          %d (%d admins, %d disabled)\n", st.Users, st.Admins, st.Disabled)
			fmt.Fprintf(w, "conversations  %d (%d groups)\n", st.Conversations, st.Groups)
			fmt.Fprintf(w, "messages       %d\n", st.Messages)
			fmt.Fprintf(w, "open reports   %d\n", st.OpenReports)
			fmt.Fprintf(w, "database       %s\n", mib(st.DatabaseBytes))
		})
	}

	// The verbs on one account.
	u, err := svc.UserByName(ctx, op, pos[0])
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return fmt.Errorf("no account named %q", parley.NormalizeUsername(pos[0]))
	} else if err != nil {
		return adminErr(err)
	}
	switch name {
	case "user reset-password":
		if *passwordStdin {
			password, err := readPassword()
			if err != nil {
				return err
			}
			if err := svc.SetPassword(ctx, op, u.ID, password); err != nil {
				return adminErr(err)
			}
			return a.print(map[string]any{"user": u}, func(w io.Writer) {
				fmt.Fprintf(w, "Set the password of %s; every session of theirs ended.\n", u.Username)
			})
		}
		token, exp, err := svc.ResetLink(ctx, op, u.ID)
		if err != nil {
			return adminErr(err)
		}
		return a.print(map[string]any{"user": u, "reset_link": a.link(token), "expires_at": exp}, func(w io.Writer) {
			fmt.Fprintf(w, "%s sets a new password at %s (once, until %s).\n", u.Username, a.link(token), exp.Format(time.DateTime+" MST"))
		})
	case "user set-admin":
		u, err = svc.SetAdmin(ctx, op, u.ID, !*revoke)
		if err != nil {
			return adminErr(err)
		}
		return a.print(map[string]any{"user": u}, func(w io.Writer) { fmt.Fprintf(w, "%s is now %s.\n", u.Username, article(u.Role)) })
	case "user disable", "user enable":
		u, err = svc.SetDisabled(ctx, op, u.ID, name == "user disable")
		if err != nil {
			return adminErr(err)
		}
		return a.print(map[string]any{"user": u}, func(w io.Writer) {
			if u.DisabledAt != nil {
				fmt.Fprintf(w, "Disabled %s: they cannot log in, and their sessions have ended.\n", u.Username)
			} else {
				fmt.Fprintf(w, "Enabled %s.\n", u.Username)
			}
		})
	case "user delete":
		if !*yes {
			return fmt.Errorf("deleting %s cannot be undone: add --yes", u.Username)
		}
		if err := svc.AdminDeleteAccount(ctx, op, u.ID); err != nil {
			return adminErr(err)
		}
		return a.print(map[string]any{"deleted": u.Username}, func(w io.Writer) {
			fmt.Fprintf(w, "Deleted %s; their messages stay, from \"Deleted account\".\n", u.Username)
		})
	}
	return nil
}

type adminRun struct {
	out  io.Writer
	json bool
	base string
}

// print writes v as JSON with --json, else the text.
func (a *adminRun) print(v map[string]any, text func(w io.Writer)) error {
	if a.json {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(a.out)
	return nil
}

// link is a reset link's address (empty for no token).
func (a *adminRun) link(token string) string {
	if token == "" {
		return ""
	}
	return a.base + "/reset-password?token=" + token
}

// adminErr says a domain error in words.
func adminErr(err error) error {
	if code := parley.ErrorCode(err); code != parley.EINTERNAL {
		msg := parley.ErrorMessage(err)
		if f := parley.ErrorField(err); f != "" {
			msg += " (" + f + ")"
		}
		return errors.New(msg)
	}
	return err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func article(role string) string {
	if role == parley.InstanceAdmin {
		return "an admin"
	}
	return "a member"
}
