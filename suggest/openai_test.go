package suggest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
)

const testKey = "sk-test-SECRET-d41d8cd98f00"

// chatServer is a local OpenAI-compatible endpoint. Each test gives it the
// handler for POST /v1/chat/completions; it records what it was sent.
type chatServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []chatRequest
}

type chatRequest struct {
	Method, Path, Auth, Accept string
	Body                       struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
}

func newChatServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *chatServer {
	t.Helper()
	s := &chatServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cr chatRequest
		cr.Method, cr.Path, cr.Auth, cr.Accept = r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Accept")
		if err := json.NewDecoder(r.Body).Decode(&cr.Body); err != nil {
			t.Errorf("request body: %v", err)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, cr)
		s.mu.Unlock()
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		handle(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *chatServer) requests() []chatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// provider returns an openai provider for s with the given timeout, logging
// into log.
func (s *chatServer) provider(t *testing.T, timeout time.Duration, log io.Writer) Provider {
	t.Helper()
	p, err := New(Config{
		BaseURL: s.URL + "/v1",
		APIKey:  testKey,
		Model:   "test-model",
		Timeout: timeout,
		Logger:  slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "openai" {
		t.Fatalf("Name() = %q, want openai", p.Name())
	}
	return p
}

// sse writes one Chat Completions stream chunk carrying content, and flushes.
func sse(w http.ResponseWriter, content string) {
	chunk := map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
		"choices": []map[string]any{{"index": 0, "delta": map[string]any{"content": content}, "finish_reason": nil}},
	}
	b, _ := json.Marshal(chunk)
	fmt.Fprintf(w, "data: %s\n\n", b)
	w.(http.Flusher).Flush()
}

func sseDone(w http.ResponseWriter) {
	io.WriteString(w, "data: [DONE]\n\n")
	w.(http.Flusher).Flush()
}

func sseHeader(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

// streamOf answers with the given chunks, then [DONE].
func streamOf(chunks ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		sseHeader(w)
		for _, c := range chunks {
			sse(w, c)
		}
		sseDone(w)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestOpenAIRequest(t *testing.T) {
	srv := newChatServer(t, streamOf("Yes, I'm free!\nWhat time?\nSorry, I can't tonight.\n"))
	p := srv.provider(t, 5*time.Second, io.Discard)
	req := Request{
		Prompt:           "say I can come after 8",
		Me:               "Bob",
		ConversationName: "Friday plans",
		History: []Turn{
			{Sender: "Alice", Text: "Hi Bob"},
			{Sender: "Bob", Mine: true, Text: "Hey!"},
			{Sender: "Carol", Text: "Are you free tonight?\nWe're going out."},
		},
	}
	got, err := collect(t, p, req)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Yes, I'm free!", "What time?", "Sorry, I can't tonight."}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" {
		t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.Path)
	}
	if r.Auth != "Bearer "+testKey {
		t.Errorf("Authorization %q, want Bearer <key>", r.Auth)
	}
	if r.Body.Model != "test-model" || !r.Body.Stream {
		t.Errorf("model %q stream %v, want test-model, true", r.Body.Model, r.Body.Stream)
	}
	var all strings.Builder
	roles := []string{}
	for _, m := range r.Body.Messages {
		roles = append(roles, m.Role)
		all.WriteString(m.Content + "\n")
	}
	if !slices.Equal(roles, []string{"system", "user"}) {
		t.Errorf("roles %q, want system, user", roles)
	}
	for _, s := range []string{
		"Alice: Hi Bob\n",
		"Bob: Hey!\n",
		"Carol: Are you free tonight? We're going out.\n", // one line per message
		"say I can come after 8",
		"exactly 3",
		"on its own line",
		"Bob",
		"Friday plans",
	} {
		if !strings.Contains(all.String(), s) {
			t.Errorf("messages lack %q:\n%s", s, all.String())
		}
	}
}

func TestOpenAIEmptyConversationAsksForStarters(t *testing.T) {
	srv := newChatServer(t, streamOf("Hi! How was your weekend?"))
	p := srv.provider(t, 5*time.Second, io.Discard)
	got, err := collect(t, p, Request{Me: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"Hi! How was your weekend?"}) {
		t.Errorf("got %q", got)
	}
	user := srv.requests()[0].Body.Messages[1].Content
	if !strings.Contains(user, "no messages yet") || !strings.Contains(user, "conversation starters") {
		t.Errorf("user message does not ask for starters:\n%s", user)
	}
}

// TestOpenAIEmitsAsLinesComplete checks that each suggestion is emitted as
// soon as its line ends, even when chunks split lines: the server only sends
// the rest of the answer after the test has received the first suggestion.
func TestOpenAIEmitsAsLinesComplete(t *testing.T) {
	first := make(chan struct{})
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request) {
		sseHeader(w)
		sse(w, "1. Sure, ")
		sse(w, "sounds good")
		sse(w, "!\n2. What ti")
		select {
		case <-first:
		case <-r.Context().Done():
			return
		}
		sse(w, "me works for you?\n\n- \"Can't wait")
		sse(w, "!\"")
		sseDone(w)
	})
	p := srv.provider(t, 10*time.Second, io.Discard)
	var got []string
	err := p.Suggest(t.Context(), Request{Me: "Bob", History: []Turn{{Sender: "Alice", Text: "Dinner at 8?"}}},
		func(s string) error {
			got = append(got, s)
			if len(got) == 1 {
				close(first) // the server now sends the rest
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Sure, sounds good!", "What time works for you?", "Can't wait!"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOpenAIStopsAtMax(t *testing.T) {
	srv := newChatServer(t, streamOf("Here are 3 suggestions:\n", "a\nb\n", "c\nd\ne\n"))
	p := srv.provider(t, 5*time.Second, io.Discard)
	got, err := collect(t, p, Request{Prompt: "anything"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("got %q, want a, b, c", got)
	}
}

func TestOpenAIErrors(t *testing.T) {
	jsonError := func(status int) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			// A server that echoes the credentials it was sent.
			fmt.Fprintf(w, `{"error":{"message":"failed for %s","type":"server_error"}}`, r.Header.Get("Authorization"))
		}
	}
	tests := []struct {
		name   string
		handle func(http.ResponseWriter, *http.Request)
		code   string
	}{
		{"500", jsonError(http.StatusInternalServerError), parley.EAIUNAVAILABLE},
		{"503 plain text", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream down "+r.Header.Get("Authorization"), http.StatusServiceUnavailable)
		}, parley.EAIUNAVAILABLE},
		{"429", jsonError(http.StatusTooManyRequests), parley.EAIRATELIMITED},
		{"401", jsonError(http.StatusUnauthorized), parley.EAIUNAVAILABLE},
		{"404 unknown model", jsonError(http.StatusNotFound), parley.EAIUNAVAILABLE},
		{"error event in stream", func(w http.ResponseWriter, r *http.Request) {
			sseHeader(w)
			io.WriteString(w, `data: {"error":{"message":"overloaded `+r.Header.Get("Authorization")+`"}}`+"\n\n")
		}, parley.EAIUNAVAILABLE},
		{"malformed chunk", func(w http.ResponseWriter, r *http.Request) {
			sseHeader(w)
			io.WriteString(w, "data: {\"choices\": [\n\n")
			sseDone(w)
		}, parley.EAIBADRESPONSE},
		{"no suggestions", streamOf("", "\n\n", "  \n"), parley.EAIBADRESPONSE},
		{"not an event stream", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>hello</html>\n")
		}, parley.EAIBADRESPONSE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newChatServer(t, tt.handle)
			var log syncBuffer
			p := srv.provider(t, 5*time.Second, &log)
			got, err := collect(t, p, from("Are you free?"))
			checkError(t, err, tt.code)
			if len(got) != 0 {
				t.Errorf("emitted %q before failing", got)
			}
			checkNoKey(t, err, &log)
		})
	}
}

func TestOpenAIConnectionRefused(t *testing.T) {
	srv := newChatServer(t, streamOf("never"))
	srv.Close() // nothing listens on its address any more
	var log syncBuffer
	p := srv.provider(t, 5*time.Second, &log)
	_, err := collect(t, p, from("Are you free?"))
	checkError(t, err, parley.EAIUNAVAILABLE)
	checkNoKey(t, err, &log)
	if !strings.Contains(log.String(), "code=ai_unavailable") {
		t.Errorf("log lacks the failure:\n%s", log.String())
	}
}

// TestOpenAITimeout: a server that never answers, or stops in the middle of
// its answer, gives ai_timeout once Timeout has passed. The handlers block
// on the request's context; the test does not sleep.
func TestOpenAITimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name   string
		handle func(http.ResponseWriter, *http.Request)
		want   []string
	}{
		{"no headers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, nil},
		{"mid-stream", func(w http.ResponseWriter, r *http.Request) {
			sseHeader(w)
			sse(w, "Sounds good!\nLet me ch")
			<-r.Context().Done()
		}, []string{"Sounds good!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newChatServer(t, tt.handle)
			var log syncBuffer
			p := srv.provider(t, timeout, &log)
			start := time.Now()
			got, err := collect(t, p, from("Are you free?"))
			elapsed := time.Since(start)
			checkError(t, err, parley.EAITIMEOUT)
			checkNoKey(t, err, &log)
			if !slices.Equal(got, tt.want) {
				t.Errorf("emitted %q, want %q", got, tt.want)
			}
			if elapsed < timeout || elapsed > timeout+3*time.Second {
				t.Errorf("returned after %v, want about %v", elapsed, timeout)
			}
		})
	}
}

// TestOpenAICallerCancels: when the caller's context ends first, Suggest
// returns the context's error rather than an ai_* code.
func TestOpenAICallerCancels(t *testing.T) {
	srv := newChatServer(t, func(w http.ResponseWriter, r *http.Request) {
		sseHeader(w)
		sse(w, "First\n")
		<-r.Context().Done()
	})
	p := srv.provider(t, 10*time.Second, io.Discard)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := p.Suggest(ctx, from("Hi"), func(string) error {
		cancel() // the person closed the page
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestOpenAIEmitError(t *testing.T) {
	srv := newChatServer(t, streamOf("a\nb\nc\n"))
	p := srv.provider(t, 5*time.Second, io.Discard)
	stop := errors.New("write failed")
	err := p.Suggest(t.Context(), from("Hi"), func(string) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the emit error", err)
	}
}

func checkError(t *testing.T, err error, code string) {
	t.Helper()
	var perr *parley.Error
	if !errors.As(err, &perr) {
		t.Fatalf("err = %v (%T), want *parley.Error with code %s", err, err, code)
	}
	if perr.Code != code {
		t.Errorf("code %q (%v), want %q", perr.Code, err, code)
	}
	if perr.Message == "" {
		t.Error("empty message")
	}
}

func checkNoKey(t *testing.T, err error, log *syncBuffer) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("error contains the API key: %v", err)
	}
	if msg := parley.ErrorMessage(err); strings.Contains(msg, testKey) {
		t.Errorf("message contains the API key: %s", msg)
	}
	if strings.Contains(log.String(), testKey) {
		t.Errorf("log contains the API key:\n%s", log.String())
	}
}

func TestCleanLine(t *testing.T) {
	tests := map[string]string{
		"Sounds good!":                  "Sounds good!",
		"  - Sounds good!  ":            "Sounds good!",
		"* Sure":                        "Sure",
		"• Sure":                        "Sure",
		"1. Sure":                       "Sure",
		"2) Sure":                       "Sure",
		"(3) Sure":                      "Sure",
		`1. "Sure thing"`:               "Sure thing",
		"“Sure thing”":                  "Sure thing",
		"**Sure thing**":                "Sure thing",
		"Suggestion 2: Sure":            "Sure",
		"- 1. 'Sure'":                   "Sure",
		"1.5 hours is fine":             "1.5 hours is fine",
		"*waves* hi":                    "*waves* hi",
		"Here are three suggestions:":   "",
		"Sure! Here are some options:":  "",
		"":                              "",
		"   ":                           "",
		"-":                             "",
		"...":                           "",
		"👍":                             "👍",
		"I'll bring the 'good' cheese.": "I'll bring the 'good' cheese.",
	}
	for in, want := range tests {
		if got := cleanLine(in); got != want {
			t.Errorf("cleanLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cleanLine(strings.Repeat("x", parley.MessageTextMax+10)); len(got) != parley.MessageTextMax {
		t.Errorf("long line kept %d characters, want %d", len(got), parley.MessageTextMax)
	}
}

func TestCollectorThinkAndCRLF(t *testing.T) {
	var got []string
	c := &collector{max: 3, emit: func(s string) error { got = append(got, s); return nil }}
	for _, piece := range []string{"<think>\nThey asked", " about dinner.\n</think>\n", "Yes!\r\n", "<think>short</think> Maybe later\r\nNo"} {
		if err := c.feed(piece); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.finish(); err != nil {
		t.Fatal(err)
	}
	want := []string{"Yes!", "Maybe later", "No"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
