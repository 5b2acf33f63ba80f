package http_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/servertest"
)

type sseEvent struct {
	name string
	data map[string]any
}

// suggest posts to the suggestions route and reads the whole event stream.
func suggest(t *testing.T, a *servertest.API, convID int64, body string) (*http.Response, []sseEvent) {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/conversations/%d/suggestions", a.Base, convID), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return res, nil
	}
	var events []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.data); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		case line == "":
			events = append(events, cur)
			cur = sseEvent{}
		}
	}
	return res, events
}

func TestSuggestionsBuiltin(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.SuggestRate = 3 }))
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	cid := id(d, "id")

	// Empty conversation: conversation starters, then done.
	res, events := suggest(t, alice, cid, "")
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	if len(events) < 2 || events[len(events)-1].name != "done" {
		t.Fatalf("events %v", events)
	}
	n := len(events) - 1
	for i, e := range events[:n] {
		if e.name != "suggestion" || e.data["index"].(float64) != float64(i) || strings.TrimSpace(e.data["text"].(string)) == "" {
			t.Fatalf("event %d: %v", i, e)
		}
	}
	if events[n].data["count"].(float64) != float64(n) {
		t.Fatalf("done %v after %d suggestions", events[n].data, n)
	}

	// A question from bob: suggestions answer it, deterministically.
	bob.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", cid), map[string]any{"client_msg_id": "q", "text": "Are you coming to the climbing gym tonight?"})
	_, first := suggest(t, alice, cid, "")
	_, again := suggest(t, alice, cid, "")
	if fmt.Sprint(first) != fmt.Sprint(again) || len(first) < 2 {
		t.Fatalf("not deterministic:\n%v\n%v", first, again)
	}

	// The fourth request in a minute is refused with Retry-After.
	res, _ = suggest(t, alice, cid, "")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth request: %d %v", res.StatusCode, res.Header)
	}
	// Bad input and non-members.
	res, _ = suggest(t, bob, cid, `{"prompt": 5}`)
	if res.StatusCode != 400 {
		t.Fatalf("bad prompt: %d", res.StatusCode)
	}
	carol := servertest.SignUp(t, srv.URL, "carol")
	if res, _ := suggest(t, carol, cid, ""); res.StatusCode != 404 {
		t.Fatalf("non-member: %d", res.StatusCode)
	}
	if r := alice.Must(200, "GET", "/api/v1/features", nil); r.Body["suggestions"] != true {
		t.Fatal(r.Body)
	}
}

func TestSuggestionsOff(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Suggest.Mode = "off" }))
	alice := servertest.SignUp(t, srv.URL, "alice")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
	if res, _ := suggest(t, alice, id(g, "id"), ""); res.StatusCode != 501 {
		t.Fatalf("suggestions off: %d", res.StatusCode)
	}
	if r := alice.Must(200, "GET", "/api/v1/features", nil); r.Body["suggestions"] != false {
		t.Fatal(r.Body)
	}
}

// TestSuggestionsOpenAI: the openai provider behind the real route, against
// a local server speaking the Chat Completions streaming wire format.
func TestSuggestionsOpenAI(t *testing.T) {
	type seen struct {
		auth string
		body map[string]any
	}
	got := make(chan seen, 10)
	hang := make(chan struct{})
	defer close(hang)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		got <- seen{r.Header.Get("Authorization"), body}
		if strings.Contains(fmt.Sprint(body["messages"]), "hang please") {
			select {
			case <-r.Context().Done():
			case <-hang:
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"Sure, see", " you at 7!\nWhich gym", "?\n"} {
			chunk, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "m",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": piece}}}})
			fmt.Fprintf(w, "data: %s\n\n", chunk)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer fake.Close()
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Suggest.Mode, c.Suggest.BaseURL, c.Suggest.APIKey, c.Suggest.Model = "openai", fake.URL, "sk-secret-key", "test-model"
		c.Suggest.Timeout = 500 * time.Millisecond
	}))
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	d := alice.Must(201, "POST", "/api/v1/direct", map[string]any{"username": "bob"}).Obj("conversation")
	cid := id(d, "id")
	bob.Must(201, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", cid), map[string]any{"client_msg_id": "q", "text": "Climbing tonight?"})

	_, events := suggest(t, alice, cid, `{"prompt":"say yes"}`)
	if len(events) != 3 || events[0].data["text"] != "Sure, see you at 7!" || events[1].data["text"] != "Which gym?" || events[2].name != "done" {
		t.Fatalf("events %v", events)
	}
	req := <-got
	if req.auth != "Bearer sk-secret-key" || req.body["model"] != "test-model" || req.body["stream"] != true {
		t.Fatalf("request auth %q body %v", req.auth, req.body)
	}
	if msgs := fmt.Sprint(req.body["messages"]); !strings.Contains(msgs, "bob: Climbing tonight?") || !strings.Contains(msgs, "say yes") {
		t.Fatalf("context sent: %s", msgs)
	}

	// A provider that hangs: an error event within the timeout, no key in it.
	_, events = suggest(t, alice, cid, `{"prompt":"hang please"}`)
	<-got
	if len(events) != 1 || events[0].name != "error" || events[0].data["code"] != "ai_timeout" || strings.Contains(fmt.Sprint(events), "sk-secret") {
		t.Fatalf("events %v", events)
	}
}
