// Package suggest proposes messages a person could send next in a
// conversation: replies to the latest messages, messages that follow the
// person's own prompt ("ask if they're free tomorrow"), or conversation
// starters for an empty conversation. Suggestions are delivered one at a
// time, each as soon as it is complete, so the HTTP layer can stream them as
// Server-Sent Events.
//
// Two providers implement the small Provider interface:
//
//   - "openai" talks to any OpenAI-compatible Chat Completions endpoint
//     (OpenAI, Ollama, vLLM, the llama.cpp server, LM Studio) with streaming,
//     and emits each suggestion as soon as the model finishes its line.
//   - "builtin", the default, needs no network and no model. It is a small,
//     deterministic, English-only heuristic suggester: it recognises
//     questions, greetings, thanks, goodbyes and short acknowledgements in the
//     last message from someone else, picks a salient word or phrase for a
//     follow-up question, turns a few common kinds of prompt ("ask if …",
//     "tell them …", "say thanks for …") into short messages, and otherwise
//     rephrases the prompt. It does not understand the conversation; it
//     exists so the feature works offline and in tests, not to rival a
//     language model.
//
// Errors a client can act on are *parley.Error values with one of the
// parley.EAI* codes, which are also the codes of the SSE "error" event. The API key
// never appears in an error or a log line.
//
// Limiter is a per-user rate limit for the suggestion endpoint.
package suggest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
)

// Provider modes for Config.Mode.
const (
	ModeBuiltin = "builtin"
	ModeOpenAI  = "openai"
	ModeOff     = "off"
)

// Defaults used for zero Config fields.
const (
	DefaultTimeout        = 20 * time.Second
	DefaultMaxSuggestions = 3
	// DefaultContext is how many recent messages the HTTP layer sends a
	// provider as context (serve's --ai-context).
	DefaultContext = 20
	// DefaultModel is the model asked for when Config.Model is empty in
	// openai mode. Local servers (Ollama, vLLM …) usually need Model set to
	// one of their own models.
	DefaultModel = "gpt-4o-mini"
	// MaxSuggestionsLimit bounds Config.MaxSuggestions.
	MaxSuggestionsLimit = 10
)

// Request limits. Suggest rejects a longer prompt with a parley.EINVALID
// error naming the field "prompt"; longer history is shortened silently.
const (
	PromptMax      = 1000 // characters
	HistoryMax     = 50   // turns; older ones are dropped
	HistoryTextMax = 1000 // characters per turn; the rest is cut
)

// Turn is one message of the conversation as the provider sees it.
type Turn struct {
	Sender string // display name (or username) of the sender
	Mine   bool   // sent by the person asking for suggestions
	Text   string
}

// Request asks for suggestions.
type Request struct {
	// Prompt is what the person wants to say, in their words; empty means
	// "suggest replies" (or conversation starters when History is empty).
	Prompt string
	// Me is the name of the person asking, as others see it.
	Me string
	// ConversationName is the group's name, or the other person's name for
	// a direct conversation. It may be empty.
	ConversationName string
	// History holds the last readable messages, oldest first.
	History []Turn
}

// Provider produces suggestions.
type Provider interface {
	// Suggest calls emit for each complete suggestion, in order, and returns
	// when done. It stops and returns emit's error if emit fails, and ctx's
	// error if ctx ends; other errors are *parley.Error values with one of
	// the parley.EAI* codes (or parley.EINVALID for a bad request).
	Suggest(ctx context.Context, req Request, emit func(text string) error) error
	// Name names the provider for logs and metrics: "builtin" or "openai".
	Name() string
}

// Config selects and configures a provider. Zero values are documented per
// field.
type Config struct {
	// Mode is "builtin", "openai" or "off". Empty means "openai" when
	// BaseURL is set and "builtin" otherwise.
	Mode string
	// BaseURL of an OpenAI-compatible API, including the version path,
	// e.g. "http://localhost:11434/v1". Empty in openai mode means
	// OpenAI's own API.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer <key>". Empty sends none
	// (local servers rarely need one).
	APIKey string
	// Model to ask for. Zero value: DefaultModel.
	Model string
	// Timeout bounds a whole Suggest call. Zero value: DefaultTimeout.
	Timeout time.Duration
	// MaxSuggestions is how many suggestions to ask for and emit at most.
	// Zero value: DefaultMaxSuggestions. At most MaxSuggestionsLimit.
	MaxSuggestions int
	// HTTPClient carries the openai provider's requests. Zero value: a new
	// http.Client without its own timeout (Timeout applies through the
	// request context).
	HTTPClient *http.Client
	// Logger receives one warning per failed provider call, with the cause
	// (the API key redacted). Zero value: no logging.
	Logger *slog.Logger
}

// New returns the provider cfg selects, or a nil Provider and nil error when
// Mode is "off".
func New(cfg Config) (Provider, error) {
	mode := cfg.Mode
	if mode == "" {
		mode = ModeBuiltin
		if cfg.BaseURL != "" {
			mode = ModeOpenAI
		}
	}
	if mode == ModeOff {
		return nil, nil
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("suggest: negative timeout %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSuggestions < 0 || cfg.MaxSuggestions > MaxSuggestionsLimit {
		return nil, fmt.Errorf("suggest: max suggestions must be 0 to %d, not %d", MaxSuggestionsLimit, cfg.MaxSuggestions)
	}
	if cfg.MaxSuggestions == 0 {
		cfg.MaxSuggestions = DefaultMaxSuggestions
	}
	switch mode {
	case ModeBuiltin:
		return &builtin{max: cfg.MaxSuggestions}, nil
	case ModeOpenAI:
		return newOpenAI(cfg), nil
	default:
		return nil, fmt.Errorf("suggest: unknown mode %q (want %q, %q or %q)", cfg.Mode, ModeBuiltin, ModeOpenAI, ModeOff)
	}
}

// checkRequest validates req and returns it with History trimmed to
// HistoryMax turns of at most HistoryTextMax characters each.
func checkRequest(req Request) (Request, error) {
	if !utf8.ValidString(req.Prompt) {
		return req, parley.FieldErrorf("prompt", "Prompt must be valid UTF-8.")
	}
	req.Prompt = strings.TrimSpace(req.Prompt)
	if utf8.RuneCountInString(req.Prompt) > PromptMax {
		return req, parley.FieldErrorf("prompt", "Prompt must be at most %d characters.", PromptMax)
	}
	if len(req.History) > HistoryMax {
		req.History = req.History[len(req.History)-HistoryMax:]
	}
	h := make([]Turn, 0, len(req.History))
	for _, t := range req.History {
		t.Text = strings.TrimSpace(truncateRunes(strings.ToValidUTF8(t.Text, ""), HistoryTextMax))
		if t.Text != "" {
			h = append(h, t)
		}
	}
	req.History = h
	return req, nil
}

// truncateRunes returns s cut to at most n characters.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
