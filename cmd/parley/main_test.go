package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"parley/servertest"
)

// buildBinary builds cmd/parley once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "parley")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startBinary runs `parley serve` and waits until /healthz answers.
func startBinary(t *testing.T, addr, dataDir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", addr, "--data-dir", dataDir, "--hash-memory", "8192", "--hash-time", "1", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	servertest.WaitFor(t, 30*time.Second, func() bool { return servertest.Do(t, "http://"+addr, "", "GET", "/healthz", nil).Status == 200 },
		"the server to become healthy")
	return cmd
}

// TestKill9KeepsAcknowledged: every message acknowledged before kill -9 is
// there after a restart.
func TestKill9KeepsAcknowledged(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	cmd := startBinary(t, addr, dataDir)
	base := "http://" + addr + "/api/v1"
	servertest.Do(t, base, "", "POST", "/auth/signup", map[string]any{"username": "alice", "email": "a@example.com", "password": "password1"})
	login := servertest.Do(t, base, "", "POST", "/auth/login", map[string]any{"login": "alice", "password": "password1"}).Body
	tok := login["token"].(string)
	g := servertest.Do(t, base, tok, "POST", "/groups", map[string]any{"name": "G"}).Body
	gid := int64(g["conversation"].(map[string]any)["id"].(float64))

	// 8 senders send as fast as they can; the server is killed while they do.
	var mu sync.Mutex
	acked := map[string]int64{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cid := fmt.Sprintf("w%d-%d", w, i)
				a := servertest.Do(t, base, tok, "POST", fmt.Sprintf("/conversations/%d/messages", gid), map[string]any{"client_msg_id": cid, "text": cid})
				if a.Status != 201 || a.Body == nil {
					return
				}
				mu.Lock()
				acked[cid] = int64(a.Obj("message")["seq"].(float64))
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 300 {
		t.Fatalf("only %d acknowledgements before the kill", len(acked))
	}

	startBinary(t, addr, dataDir)
	stored := map[string]int64{}
	after := 0
	for {
		a := servertest.Must(t, base, tok, "GET", fmt.Sprintf("/conversations/%d/messages?after_seq=%d&limit=200", gid, after), nil, 200)
		var page struct {
			Messages []struct {
				Seq         int    `json:"seq"`
				ClientMsgID string `json:"client_msg_id"`
			} `json:"messages"`
			HasMore bool `json:"has_more"`
		}
		json.Unmarshal(a.Raw, &page)
		for _, m := range page.Messages {
			if m.ClientMsgID != "" {
				stored[m.ClientMsgID] = int64(m.Seq)
			}
			after = m.Seq
		}
		if !page.HasMore {
			break
		}
	}
	for cid, seq := range acked {
		if stored[cid] != seq {
			t.Fatalf("acknowledged %s (seq %d) is missing after kill -9 (stored: %d)", cid, seq, stored[cid])
		}
	}
	t.Logf("%d acknowledged, %d stored after kill -9", len(acked), len(stored))
}

// TestServeFlagsAndEnv: bad settings are refused with a clear error; env
// variables set defaults.
func TestServeFlagsAndEnv(t *testing.T) {
	env := map[string]string{"PARLEY_ADDR": "127.0.0.1:0", "PARLEY_MAX_GROUP_MEMBERS": "x"}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"parley", "serve"}, func(k string) string { return env[k] }, nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_MAX_GROUP_MEMBERS") {
		t.Fatalf("err = %v", err)
	}
	if err := run(context.Background(), []string{"parley", "nope"}, func(string) string { return "" }, nil, io.Discard, &stderr); err == nil {
		t.Fatal("unknown command accepted")
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"parley", "version"}, func(string) string { return "" }, nil, &out, &stderr); err != nil || !strings.HasPrefix(out.String(), "parley ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

// TestServeRunsAndStops: run serves on the configured address and returns
// when its context ends (SIGTERM's path).
func TestServeRunsAndStops(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	env := map[string]string{"PARLEY_ADDR": addr, "PARLEY_DATA_DIR": dir, "PARLEY_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"parley", "serve"}, func(k string) string { return env[k] }, nil, pw, io.Discard)
		pw.Close()
	}()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	if !strings.Contains(line, addr) {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, pr)
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", err, res)
	}
	res.Body.Close()
	// parley healthcheck finds the node by the same $PARLEY_ADDR, also when
	// it listens on a wildcard address.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"parley", "healthcheck"}, func(k string) string { return env[k] }, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "200 OK") {
		t.Fatalf("healthcheck: %v %q", err, out.String())
	}
	_, port, _ := net.SplitHostPort(addr)
	if err := run(context.Background(), []string{"parley", "healthcheck", "--addr", "0.0.0.0:" + port}, noEnv, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck on 0.0.0.0: %v", err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "parley.db")); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"parley", "healthcheck", "--addr", addr}, noEnv, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("healthcheck of a stopped node succeeded")
	}
}
