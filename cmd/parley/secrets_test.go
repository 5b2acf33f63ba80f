package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretEnv holds a value for every secret setting, and one that is not a
// number where a number is expected, so that a test can look for them in
// everything serve prints.
var secretEnv = map[string]string{
	"PARLEY_AI_API_KEY":        "sk-env-ai-key-0001",
	"PARLEY_DATABASE_URL":      "postgres://parley:env-db-password-0002@127.0.0.1:1/parley",
	"PARLEY_TURN_SECRET":       "env-turn-secret-0003",
	"PARLEY_NATS_URL":          "nats://parley:env-nats-password-0006@127.0.0.1:1",
	"PARLEY_TURN_URLS":         "turn:turn.example.com:3478",
	"PARLEY_MAX_GROUP_MEMBERS": "env-not-a-number-0004",
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{"sk-env-ai-key-0001", "env-db-password-0002", "env-turn-secret-0003", "env-not-a-number-0004", "file-secret-0005", "env-nats-password-0006"} {
		if strings.Contains(s, v) {
			t.Errorf("%s shows %q:\n%s", what, v, s)
		}
	}
}

// TestSecretsNeverShown: -h and every error print the flags' code defaults,
// never a value from the environment; -h is not an error (exit 0).
func TestSecretsNeverShown(t *testing.T) {
	getenv := func(k string) string { return secretEnv[k] }
	goodNumbers := func(k string) string {
		if k == "PARLEY_MAX_GROUP_MEMBERS" {
			return ""
		}
		return secretEnv[k]
	}
	for _, args := range [][]string{
		{"serve", "-h"},
		{"serve", "--help"},
		{"serve", "--no-such-flag"},
		{"serve", "--max-group-members", "many"},
		{"serve", "--ai-api-key-file", filepath.Join(t.TempDir(), "missing")},
		{"serve"}, // PARLEY_MAX_GROUP_MEMBERS is not a number
	} {
		for _, getenv := range []func(string) string{getenv, goodNumbers} {
			checkRun(t, args, getenv)
		}
	}
	// The variable at fault is named, without its value.
	_, _, _, err := serveConfig(nil, getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_MAX_GROUP_MEMBERS") {
		t.Fatalf("bad PARLEY_MAX_GROUP_MEMBERS: %v", err)
	}
}

// checkRun runs parley with args: -h succeeds and lists the flags, anything
// else here fails; nothing printed shows a secret.
func checkRun(t *testing.T, args []string, getenv func(string) string) {
	t.Helper()
	{
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"parley"}, args...), getenv, nil, &stdout, &stderr)
		help := len(args) > 1 && (args[1] == "-h" || args[1] == "--help")
		if help && err != nil {
			t.Errorf("%v: %v; want no error (exit 0)", args, err)
		}
		if !help && err == nil {
			t.Errorf("%v: no error", args)
		}
		if help && !strings.Contains(stdout.String()+stderr.String(), "-ai-api-key-file") {
			t.Errorf("%v: help lacks the -file flags:\n%s%s", args, stdout.String(), stderr.String())
		}
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		assertNoSecret(t, strings.Join(args, " "), stdout.String()+stderr.String()+errText)
	}
}

// TestEnvAfterFlags: a flag given on the command line wins over its
// variable; a variable applies when the flag is not given.
func TestEnvAfterFlags(t *testing.T) {
	env := map[string]string{"PARLEY_MAX_GROUP_MEMBERS": "50", "PARLEY_LARGE_GROUP": "20", "PARLEY_AI_API_KEY": "from-env"}
	cfg, _, _, err := serveConfig([]string{"--max-group-members", "70", "--ai-api-key", "from-flag"},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Service.MaxGroupMembers != 70 || cfg.Service.LargeGroup != 20 || cfg.Suggest.APIKey != "from-flag" {
		t.Fatalf("max members %d, large group %d, key %q; want 70 (flag), 20 (env), from-flag",
			cfg.Service.MaxGroupMembers, cfg.Service.LargeGroup, cfg.Suggest.APIKey)
	}
}

// TestSecretFiles: every secret can be read from a file named by a flag or
// a variable (a trailing newline is not part of it); a secret given twice
// is refused.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ai := file("ai", "file-secret-0005\n")
	db := file("db", "postgres://parley:pw@127.0.0.1:1/parley\r\n")
	turn := file("turn", "turn-from-file")
	env := map[string]string{"PARLEY_TURN_URLS": "turn:turn.example.com:3478", "PARLEY_TURN_SECRET_FILE": turn}
	cfg, _, _, err := serveConfig([]string{"--ai-api-key-file", ai, "--database-url-file", db},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Suggest.APIKey != "file-secret-0005" || cfg.DatabaseURL != "postgres://parley:pw@127.0.0.1:1/parley" {
		t.Fatalf("from files: key %q, database %q", cfg.Suggest.APIKey, cfg.DatabaseURL)
	}
	// calls were enabled with the secret from the file
	if cfg.Calls == nil || cfg.Calls.TURNSecret != "turn-from-file" {
		t.Fatal("calls not enabled with PARLEY_TURN_SECRET_FILE")
	}

	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--ai-api-key", "x", "--ai-api-key-file", ai}, nil},
		{nil, map[string]string{"PARLEY_AI_API_KEY": "x", "PARLEY_AI_API_KEY_FILE": ai}},
	} {
		_, _, _, err := serveConfig(c.args, func(k string) string { return c.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "ai-api-key") && !strings.Contains(err.Error(), "AI_API_KEY") {
			t.Errorf("%v %v: %v; want an error naming the secret", c.args, c.env, err)
		}
		if err != nil {
			assertNoSecret(t, "error", err.Error())
		}
	}
}

// TestProfilerHidesCmdline: the profiler serves profiles but not the
// command line, which may hold secrets.
func TestProfilerHidesCmdline(t *testing.T) {
	srv := httptest.NewServer(profilerHandler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK || bytes.Contains(body, []byte(os.Args[0])) {
		t.Fatalf("/debug/pprof/cmdline: %d %q", res.StatusCode, body)
	}
	res, err = http.Get(srv.URL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("goroutine")) {
		t.Fatalf("/debug/pprof/: %d\n%s", res.StatusCode, body)
	}
}
