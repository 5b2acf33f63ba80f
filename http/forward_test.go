package http_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley/media/mediatest"
	"parley/servertest"
)

// Forward: a message's text and files go to other conversations of the
// forwarder's as new messages marked forwarded; the files are served to
// the targets' members and stay while any message has them.
func TestForward(t *testing.T) {
	onBothStores(t, testForward)
}

func testForward(t *testing.T, srv *servertest.Server) {
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")
	dave, erin := servertest.SignUp(t, srv.URL, "dave"), servertest.SignUp(t, srv.URL, "erin")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Source"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": g["code"]})
	h := erin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Target"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": h["code"]})
	other := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Not bob's"}).Obj("conversation")
	toCarol := id(bob.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "carol"}).Obj("conversation"), "id")
	toDave := id(bob.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "dave"}).Obj("conversation"), "id")
	dave.Must(200, "POST", "/api/v1/me/blocks", map[string]any{"username": "bob"})
	gid, hid := id(g, "id"), id(h, "id")

	photo := mustUpload(alice, "view.jpg", "image/jpeg", mediatest.JPEG(300, 200, 1))
	doc := mustUpload(alice, "plan.txt", "text/plain", []byte("day 1: walk"))
	msgs := func(c int64) string { return fmt.Sprintf("/api/v1/conversations/%d/messages", c) }
	orig := alice.Must(201, "POST", msgs(gid), map[string]any{"client_msg_id": "o1", "text": "look @bob",
		"attachments": []int64{id(photo, "id"), id(doc, "id")}}).Obj("message")
	plain := alice.Must(201, "POST", msgs(gid), map[string]any{"client_msg_id": "o2", "text": "words only"}).Obj("message")
	fwd := func(a *servertest.API, conv, seq int64, body map[string]any) servertest.Answer {
		return a.Do("POST", fmt.Sprintf("%s/%d/forward", msgs(conv), seq), body)
	}
	origSeq := id(orig, "seq")

	// Bad input changes nothing.
	for _, bad := range []map[string]any{
		{"client_msg_id": "f", "conversation_ids": []int64{}},
		{"client_msg_id": "f"},
		{"client_msg_id": "f", "conversation_ids": []int64{toCarol, toCarol}},
		{"client_msg_id": "f", "conversation_ids": []int64{1, 2, 3, 4, 5, 6}},
	} {
		if r := fwd(bob, gid, origSeq, bad); r.Status != 400 || r.Field() != "conversation_ids" {
			t.Fatalf("%v: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := fwd(bob, gid, origSeq, map[string]any{"conversation_ids": []int64{toCarol}}); r.Status != 400 || r.Field() != "client_msg_id" {
		t.Fatalf("no client_msg_id: %d %s", r.Status, r.Raw)
	}
	// Strangers, missing and unreadable messages, and targets that are
	// not the caller's all get the one 404, and nothing is sent.
	missing := fwd(bob, gid+1000, 1, map[string]any{"client_msg_id": "f", "conversation_ids": []int64{toCarol}})
	if missing.Status != 404 {
		t.Fatalf("no such conversation: %d %s", missing.Status, missing.Raw)
	}
	for what, r := range map[string]servertest.Answer{
		"stranger":              fwd(carol, gid, origSeq, map[string]any{"client_msg_id": "f", "conversation_ids": []int64{toCarol}}),
		"no such message":       fwd(bob, gid, 999, map[string]any{"client_msg_id": "f", "conversation_ids": []int64{toCarol}}),
		"system message":        fwd(bob, gid, 1, map[string]any{"client_msg_id": "f", "conversation_ids": []int64{toCarol}}),
		"target not a member":   fwd(bob, gid, origSeq, map[string]any{"client_msg_id": "f", "conversation_ids": []int64{toCarol, id(other, "id")}}),
		"target does not exist": fwd(bob, gid, origSeq, map[string]any{"client_msg_id": "f", "conversation_ids": []int64{toCarol, gid + 1000}}),
	} {
		if r.Status != 404 || !bytes.Equal(r.Raw, missing.Raw) {
			t.Errorf("%s: %d %s", what, r.Status, r.Raw)
		}
	}
	if got := carol.Must(200, "GET", msgs(toCarol), nil).Body["messages"].([]any); len(got) != 0 {
		t.Fatalf("a refused forward sent %v", got)
	}

	// Carol listens for the message as it arrives.
	events := listen(t, srv.URL, carol.Token)
	r := bob.Must(201, "POST", fmt.Sprintf("%s/%d/forward", msgs(gid), origSeq),
		map[string]any{"client_msg_id": "f1", "conversation_ids": []int64{toCarol, hid, toDave}})
	results := r.Body["results"].([]any)
	if len(results) != 3 {
		t.Fatalf("results: %s", r.Raw)
	}
	res := func(i int) map[string]any { return results[i].(map[string]any) }
	for i, c := range []int64{toCarol, hid} {
		m, _ := res(i)["message"].(map[string]any)
		if id(res(i), "conversation_id") != c || res(i)["created"] != true || m == nil || m["forwarded"] != true ||
			m["text"] != "look @bob" || id(m, "conversation_id") != c || id(m, "sender_id") != bob.UserID {
			t.Fatalf("result %d: %v", i, res(i))
		}
		atts := m["attachments"].([]any)
		if len(atts) != 2 || atts[0].(map[string]any)["name"] != "view.jpg" || atts[1].(map[string]any)["name"] != "plan.txt" ||
			id(atts[0].(map[string]any), "id") == id(photo, "id") || atts[0].(map[string]any)["thumbnail_url"] == nil {
			t.Fatalf("result %d attachments: %v", i, atts)
		}
	}
	if e, _ := res(2)["error"].(map[string]any); id(res(2), "conversation_id") != toDave || res(2)["message"] != nil ||
		res(2)["created"] != false || e == nil || e["code"] != "not_accepting" {
		t.Fatalf("blocked target: %v", res(2))
	}
	if got := dave.Must(200, "GET", msgs(toDave), nil).Body["messages"].([]any); len(got) != 0 {
		t.Fatalf("the blocked target got %v", got)
	}
	ev := events.next(t, `"forwarded":true`)
	if !strings.Contains(ev, `"ev":"message"`) || !strings.Contains(ev, `"text":"look @bob"`) {
		t.Fatalf("carol's event: %s", ev)
	}
	// What carol sees says nothing of where it came from.
	hist := carol.Must(200, "GET", msgs(toCarol), nil).Body["messages"].([]any)
	got := hist[0].(map[string]any)
	if len(hist) != 1 || got["forwarded"] != true || got["reply_to"] != nil {
		t.Fatalf("carol's history: %v", hist)
	}
	if strings.Contains(fmt.Sprint(got), "Source") || strings.Contains(fmt.Sprint(got), "alice") {
		t.Fatalf("the forward tells where it came from: %v", got)
	}

	// The targets' members fetch the files; the source's do not see the
	// copies, nor the targets' the originals.
	copyOf := func(i, j int) map[string]any {
		return res(i)["message"].(map[string]any)["attachments"].([]any)[j].(map[string]any)
	}
	wantPhoto := fetch(alice, photo["url"].(string)).Raw
	for _, c := range []struct {
		who  *servertest.API
		path string
		want int
	}{
		{carol, copyOf(0, 0)["url"].(string), 200},
		{carol, copyOf(0, 0)["thumbnail_url"].(string), 200},
		{carol, copyOf(0, 1)["url"].(string), 200},
		{erin, copyOf(1, 0)["url"].(string), 200},
		{erin, copyOf(0, 0)["url"].(string), 404},
		{alice, copyOf(0, 0)["url"].(string), 404},
		{carol, photo["url"].(string), 404},
	} {
		r := fetch(c.who, c.path)
		if r.Status != c.want {
			t.Fatalf("GET %s: %d, want %d", c.path, r.Status, c.want)
		}
		if c.want == 200 && strings.HasSuffix(c.path, fmt.Sprint(copyOf(0, 0)["id"])) && !bytes.Equal(r.Raw, wantPhoto) {
			t.Fatalf("GET %s: not the photo's bytes", c.path)
		}
	}

	// A resent forward returns the copies already sent; nothing new.
	blobs := blobFiles(t, srv)
	again := bob.Must(200, "POST", fmt.Sprintf("%s/%d/forward", msgs(gid), origSeq),
		map[string]any{"client_msg_id": "f1", "conversation_ids": []int64{toCarol, hid}}).Body["results"].([]any)
	for i := range again {
		a := again[i].(map[string]any)
		if a["created"] != false || id(a["message"].(map[string]any), "id") != id(res(i)["message"].(map[string]any), "id") {
			t.Fatalf("resend result %d: %v", i, a)
		}
	}
	if n := len(carol.Must(200, "GET", msgs(toCarol), nil).Body["messages"].([]any)); n != 1 {
		t.Fatalf("carol has %d messages after the resend", n)
	}
	// A text without files is forwarded as text.
	pr := bob.Must(201, "POST", fmt.Sprintf("%s/%d/forward", msgs(gid), id(plain, "seq")),
		map[string]any{"client_msg_id": "f2", "conversation_ids": []int64{hid}}).Body["results"].([]any)[0].(map[string]any)
	if m := pr["message"].(map[string]any); m["text"] != "words only" || m["attachments"] != nil || m["forwarded"] != true {
		t.Fatalf("forwarded text: %v", pr)
	}

	// Deleting the original leaves the copies' files; deleting every
	// message that has them lets them go.
	alice.Must(200, "DELETE", fmt.Sprintf("%s/%d", msgs(gid), origSeq), nil)
	if err := srv.Node.Files.ReapNow(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{copyOf(0, 0)["url"].(string), copyOf(0, 0)["thumbnail_url"].(string), copyOf(0, 1)["url"].(string)} {
		if r := fetch(carol, path); r.Status != 200 {
			t.Fatalf("GET %s after the original's deletion: %d", path, r.Status)
		}
	}
	if n := blobFiles(t, srv); n != blobs {
		t.Fatalf("%d blobs after the original's deletion, want %d", n, blobs)
	}
	if r := fwd(bob, gid, origSeq, map[string]any{"client_msg_id": "f3", "conversation_ids": []int64{toCarol}}); r.Status != 404 {
		t.Fatalf("forward of a deleted message: %d %s", r.Status, r.Raw)
	}
	bob.Must(200, "DELETE", fmt.Sprintf("%s/%v", msgs(toCarol), res(0)["message"].(map[string]any)["seq"]), nil)
	if r := fetch(erin, copyOf(1, 0)["url"].(string)); r.Status != 200 {
		t.Fatalf("erin's copy after carol's was deleted: %d", r.Status)
	}
	bob.Must(200, "DELETE", fmt.Sprintf("%s/%v", msgs(hid), res(1)["message"].(map[string]any)["seq"]), nil)
	servertest.WaitFor(t, 10*time.Second, func() bool {
		if blobFiles(t, srv) == blobs-3 {
			return true
		}
		if err := srv.Node.Files.ReapNow(); err != nil {
			t.Fatal(err)
		}
		return false
	}, "blobs left after every message with them was deleted (want %d)", blobs-3)

	// A member removed from the source forwards nothing more from it.
	alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, bob.UserID), nil)
	if r := fwd(bob, gid, id(plain, "seq"), map[string]any{"client_msg_id": "f4", "conversation_ids": []int64{toCarol}}); r.Status != 404 || !bytes.Equal(r.Raw, missing.Raw) {
		t.Fatalf("removed member: %d %s", r.Status, r.Raw)
	}
}

// eventStream is a WebSocket's frames, as they arrive.
type eventStream chan string

// listen opens a WebSocket with token and passes on every frame.
func listen(t *testing.T, base, token string) eventStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	out := make(eventStream, 256)
	go func() {
		defer close(out)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			out <- string(data)
		}
	}()
	// The connection is registered once it answers.
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","id":"ready"}`)); err != nil {
		t.Fatal(err)
	}
	out.next(t, `"re":"ready"`)
	return out
}

// next returns the first frame that contains want.
func (s eventStream) next(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-s:
			if !ok {
				t.Fatalf("socket closed before a frame with %s", want)
			}
			if strings.Contains(f, want) {
				return f
			}
		case <-timeout:
			t.Fatalf("no frame with %s", want)
		}
	}
}
