package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/servertest"
)

// history reads a conversation's whole history: client_msg_id to seq, and
// the attachment URLs by client_msg_id.
func history(t *testing.T, api *servertest.API, convID int64) (map[string]int64, map[string][]string) {
	t.Helper()
	stored, files := map[string]int64{}, map[string][]string{}
	after := 0
	for {
		a := api.Must(200, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages?after_seq=%d&limit=200", convID, after), nil)
		var page struct {
			Messages []struct {
				Seq         int    `json:"seq"`
				ClientMsgID string `json:"client_msg_id"`
				Attachments []struct {
					URL string `json:"url"`
				} `json:"attachments"`
			} `json:"messages"`
			HasMore bool `json:"has_more"`
		}
		if err := json.Unmarshal(a.Raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Messages {
			if m.ClientMsgID != "" {
				stored[m.ClientMsgID] = int64(m.Seq)
			}
			for _, f := range m.Attachments {
				files[m.ClientMsgID] = append(files[m.ClientMsgID], f.URL)
			}
			after = m.Seq
		}
		if !page.HasMore {
			return stored, files
		}
	}
}

// sendFile uploads data and sends it in a message with client_msg_id cid.
func sendFile(t *testing.T, api *servertest.API, convID int64, cid string, data []byte) {
	t.Helper()
	up := api.Must(201, "POST", "/api/v1/uploads?name="+cid+".bin", servertest.Body{ContentType: "application/octet-stream", Data: data})
	id := up.Obj("upload")["id"]
	api.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", convID), map[string]any{"client_msg_id": cid, "text": cid, "attachments": []any{id}})
}

// TestBackupWhileWriting: `parley backup` copies the data dir of a running
// server while 4 senders write to it, and a file arrives between its two
// passes over the files; the copy, restored into an empty data dir, serves
// every message acknowledged before the backup started (and before its
// snapshot) with the same seq, and both files.
func TestBackupWhileWriting(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	startBinary(t, addr, dataDir)
	alice := servertest.SignUp(t, "http://"+addr, "alice")
	gid := int64(alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")["id"].(float64))
	early := bytes.Repeat([]byte("early file "), 50_000)
	sendFile(t, alice, gid, "file-early", early)

	var mu sync.Mutex
	acked := map[string]int64{}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	snapshot := func() map[string]int64 {
		mu.Lock()
		defer mu.Unlock()
		m := make(map[string]int64, len(acked))
		for k, v := range acked {
			m[k] = v
		}
		return m
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cid := fmt.Sprintf("w%d-%d", w, i)
				a := alice.Do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": cid, "text": cid})
				if a.Status != 201 {
					t.Errorf("send %s: %d %s", cid, a.Status, a.Raw)
					return
				}
				mu.Lock()
				acked[cid] = int64(a.Obj("message")["seq"].(float64))
				mu.Unlock()
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	waitAcks := func(n int) {
		servertest.WaitFor(t, 30*time.Second, func() bool { return count() >= n }, fmt.Sprintf("%d acknowledged sends", n))
	}
	waitAcks(100)

	late := bytes.Repeat([]byte("late file "), 40_000)
	var beforeStart, beforeSnapshot map[string]int64
	backupHooks.before = func() {
		// Between the first pass over the files and the snapshot: more
		// sends, and a file the first pass did not see.
		waitAcks(count() + 50)
		sendFile(t, alice, gid, "file-late", late)
		beforeSnapshot = snapshot()
	}
	backupHooks.after = func() { waitAcks(count() + 50) }
	defer func() { backupHooks.before, backupHooks.after = nil, nil }()

	file := filepath.Join(t.TempDir(), "parley.tar.gz")
	beforeStart = snapshot()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"parley", "backup", "--data-dir", dataDir, "--to", file}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(out.String()))
	if !strings.Contains(out.String(), "and 2 files") {
		t.Fatalf("backup output: %q", out.String())
	}
	total := count()

	restored := t.TempDir()
	out.Reset()
	if err := run(context.Background(), []string{"parley", "restore", "--from", file, "--data-dir", restored}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(out.String()))
	// A second restore into the now full data dir is refused and changes nothing.
	dbBefore, _ := os.Stat(filepath.Join(restored, "parley.db"))
	err := run(context.Background(), []string{"parley", "restore", "--from", file, "--data-dir", restored}, noEnv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore into a full data dir: %v", err)
	}
	if dbAfter, _ := os.Stat(filepath.Join(restored, "parley.db")); !os.SameFile(dbBefore, dbAfter) {
		t.Fatal("a refused restore changed the database")
	}

	addr2 := freeAddr(t)
	startBinary(t, addr2, restored)
	copyAPI := &servertest.API{T: t, Base: "http://" + addr2, Token: alice.Token} // sessions are in the copy
	stored, files := history(t, copyAPI, gid)
	for name, want := range map[string]map[string]int64{"the backup started": beforeStart, "its snapshot": beforeSnapshot} {
		for cid, seq := range want {
			if stored[cid] != seq {
				t.Fatalf("%s (seq %d), acknowledged before %s, is not in the restored copy (found seq %d)", cid, seq, name, stored[cid])
			}
		}
	}
	t.Logf("%d acknowledged before the backup, %d before its snapshot, %d by its end; %d in the copy", len(beforeStart), len(beforeSnapshot), total, len(stored))
	if len(stored) >= total+2 {
		t.Fatalf("the copy holds %d messages, more than were sent by the backup's end (%d)", len(stored), total)
	}
	for cid, data := range map[string][]byte{"file-early": early, "file-late": late} {
		if len(files[cid]) != 1 {
			t.Fatalf("%s: attachments %v", cid, files[cid])
		}
		got := copyAPI.Must(200, "GET", files[cid][0], nil)
		if !bytes.Equal(got.Raw, data) {
			t.Fatalf("%s: %d bytes served by the copy, want the %d sent", cid, len(got.Raw), len(data))
		}
	}
	// The copy takes writes.
	copyAPI.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", gid), map[string]any{"client_msg_id": "after-restore", "text": "hi"})
}

func noEnv(string) string { return "" }

// TestBackupRefusals: PostgreSQL is backed up with pg_dump; a missing
// database, a missing --to and files that are no backup get clear errors.
func TestBackupRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(t.TempDir(), "junk.tar")
	os.WriteFile(junk, []byte("no tar at all"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--to", filepath.Join(dir, "b.tar"), "--database-url", "postgres://localhost/parley"}, "pg_dump"},
		{[]string{"backup", "--to", filepath.Join(dir, "b.tar"), "--data-dir", filepath.Join(dir, "none")}, "no Parley database"},
		{[]string{"backup", "--data-dir", dir}, "--to is required"},
		{[]string{"restore", "--data-dir", dir}, "--from is required"},
		{[]string{"restore", "--from", junk, "--data-dir", filepath.Join(dir, "r")}, "not a Parley backup"},
	} {
		err := run(ctx, append([]string{"parley"}, c.args...), noEnv, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused commands left %v", entries)
	}
}
