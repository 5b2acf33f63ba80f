package suggest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"parley"
)

// collect runs p.Suggest and returns what it emitted.
func collect(t *testing.T, p Provider, req Request) ([]string, error) {
	t.Helper()
	var got []string
	err := p.Suggest(t.Context(), req, func(s string) error {
		got = append(got, s)
		return nil
	})
	return got, err
}

func newBuiltin(t *testing.T) Provider {
	t.Helper()
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "builtin" {
		t.Fatalf("New(Config{}).Name() = %q, want builtin", p.Name())
	}
	return p
}

// from builds a request whose last message comes from someone else.
func from(text string) Request {
	return Request{Me: "Bob", ConversationName: "Alice Smith", History: []Turn{
		{Sender: "Bob", Mine: true, Text: "Morning!"},
		{Sender: "Alice Smith", Text: text},
	}}
}

func TestBuiltinBranches(t *testing.T) {
	p := newBuiltin(t)
	tests := []struct {
		name string
		req  Request
		want []string
	}{
		{"greeting", from("Hi!"), []string{
			"Hi Alice! How are you?", "Hi! Great to hear from you.", "Hi Alice, how's it going?"}},
		{"greeting mirrored", from("good morning"), []string{
			"Good morning Alice! How are you?", "Good morning! Great to hear from you.", "Good morning Alice, how's it going?"}},
		{"how are you", from("Hey, how are you?"), []string{
			"I'm doing well, thanks! How about you?", "Pretty good! How are things with you?", "Not bad at all, thanks for asking!"}},
		{"yes/no question", from("Are you free tonight?"), []string{
			"Yes, sounds good!", "Let me check and get back to you.", "No, sorry, not this time."}},
		{"yes/no question without mark", from("do you want to grab lunch"), []string{
			"Yes, sounds good!", "Let me check and get back to you.", "No, sorry, not this time."}},
		{"open question", from("What do you think of the movie?"), []string{
			"Good question, let me think about it.", "Hmm, I'm not sure about the movie yet. What do you think?", "Let me get back to you on that."}},
		{"thanks", from("Thank you so much!"), []string{
			"You're welcome!", "No problem at all!", "Anytime, happy to help!"}},
		{"thanks, typographic", from("thx for the ride"), []string{
			"You're welcome!", "No problem at all!", "Anytime, happy to help!"}},
		{"goodbye", from("ok bye, talk later"), []string{"Bye! Talk soon.", "See you later!", "Take care!"}},
		{"good night", from("Good night!"), []string{"Good night! Sleep well.", "Night! Talk tomorrow.", "Take care!"}},
		{"acknowledgement", from("sounds good 👍"), []string{"Great!", "Sounds good!", "Perfect, talk soon!"}},
		{"topic phrase", from("I started my new job today"), []string{
			"Oh, tell me more about your new job!", "How do you feel about your new job?", "Got it, thanks for letting me know."}},
		{"topic name", from("We went to Paris last week"), []string{
			"Paris? Tell me more!", "How do you feel about that?", "Got it, thanks for letting me know."}},
		{"topic word", from("I'm exhausted"), []string{
			"Exhausted? Tell me more!", "How do you feel about that?", "Got it, thanks for letting me know."}},
		{"no topic", from("it is what it is"), []string{
			"Oh, tell me more!", "How do you feel about that?", "Got it, thanks for letting me know."}},
		{"replies to the last message from someone else", Request{Me: "Bob", History: []Turn{
			{Sender: "Alice", Text: "Thanks!"},
			{Sender: "Bob", Mine: true, Text: "I hope the cake was good."},
		}}, []string{"You're welcome!", "No problem at all!", "Anytime, happy to help!"}},
		{"only my messages", Request{Me: "Bob", History: []Turn{{Sender: "Bob", Mine: true, Text: "hello?"}}}, []string{
			"Just checking in!", "No rush, reply whenever you can.", "Hope your day is going well!"}},

		{"prompt ask if", Request{Prompt: "ask if they're free tomorrow"}, []string{
			"Are you free tomorrow?", "Hey, quick question: are you free tomorrow?", "Are you free tomorrow? No worries if not!"}},
		{"prompt ask if, he", Request{Prompt: "ask if he wants to get lunch"}, []string{
			"Do you want to get lunch?", "Hey, quick question: do you want to get lunch?", "Do you want to get lunch? No worries if not!"}},
		{"prompt ask whether", Request{Prompt: "Ask whether the party is still on."}, []string{
			"Is the party still on?", "Hey, quick question: is the party still on?", "Is the party still on? No worries if not!"}},
		{"prompt ask about", Request{Prompt: "ask about their trip"}, []string{
			"How's your trip going?", "Any news about your trip?", "I was just thinking about your trip. How's it going?"}},
		{"prompt ask to", Request{Prompt: "ask him to call me back"}, []string{
			"Could you call me back?", "Can you call me back when you get a chance?", "Hey, would you be able to call me back?"}},
		{"prompt invite", Request{Prompt: "invite them to dinner on Friday"}, []string{
			"Would you like to come to dinner on Friday?", "I'd love for you to join me for dinner on Friday!", "Are you free for dinner on Friday?"}},
		{"prompt tell", Request{Prompt: "tell them I'll be 10 minutes late"}, []string{
			"I'll be 10 minutes late.", "Hey, just a heads-up: I'll be 10 minutes late.", "Just so you know, I'll be 10 minutes late."}},
		{"prompt let know", Request{Prompt: "let her know she is doing great"}, []string{
			"You are doing great.", "Hey, just a heads-up: you are doing great.", "Just so you know, you are doing great."}},
		{"prompt thanks for", Request{Prompt: "say thanks for the gift"}, []string{
			"Thanks so much for the gift!", "Thank you for the gift, I really appreciate it.", "Thanks again for the gift!"}},
		{"prompt sorry", Request{Prompt: "apologize for being late"}, []string{
			"Sorry about being late!", "I'm really sorry for being late.", "Apologies for being late, it won't happen again."}},
		{"prompt decline", Request{Prompt: "politely decline"}, []string{
			"Thanks for asking, but I can't make it this time.", "I'd love to, but I'll have to pass.", "Sorry, that doesn't work for me. Maybe next time?"}},
		{"prompt accept", Request{Prompt: "say yes"}, []string{"Yes, sounds great!", "Count me in!", "Sure, that works for me."}},
		{"prompt greeting", Request{Prompt: "say hi"}, []string{"Hi!", "Hi, how are you?", "Hey there! Hope you're doing well."}},
		{"prompt proposal", Request{Prompt: "let's get pizza"}, []string{
			"Let's get pizza.", "Hey! Let's get pizza.", "Let's get pizza. What do you think?"}},
		{"prompt question", Request{Prompt: "can we move the meeting?"}, []string{
			"Can we move the meeting?", "Hey, quick question: can we move the meeting?", "Can we move the meeting? No rush!"}},
		{"prompt rephrased", Request{Prompt: "  running   late "}, []string{
			"Running late.", "Hey! Running late.", "Just wanted to let you know: running late."}},
		{"prompt wins over history", Request{Prompt: "say yes", History: from("Hi!").History}, []string{
			"Yes, sounds great!", "Count me in!", "Sure, that works for me."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, p, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestBuiltinStarters(t *testing.T) {
	p := newBuiltin(t)
	req := Request{Me: "Bob", ConversationName: "Book club"}
	got, err := collect(t, p, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d starters, want 3: %q", len(got), got)
	}
	for _, s := range got {
		if !slices.Contains(conversationStarters, s) {
			t.Errorf("%q is not a conversation starter", s)
		}
		if !strings.HasSuffix(s, "?") {
			t.Errorf("starter %q is not open-ended (a question)", s)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(got)))) != 3 {
		t.Errorf("starters repeat: %q", got)
	}

	// More than the usual three, when configured.
	p5, err := New(Config{Mode: "builtin", MaxSuggestions: 5})
	if err != nil {
		t.Fatal(err)
	}
	got5, err := collect(t, p5, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(got5) != 5 || !slices.Equal(got5[:3], got) {
		t.Errorf("with 5: %q, want 5 starting with %q", got5, got)
	}
}

func TestBuiltinDeterministic(t *testing.T) {
	p := newBuiltin(t)
	reqs := []Request{
		{Me: "Bob", ConversationName: "Alice"},
		{Me: "Bob", ConversationName: "Carol"},
		from("What are you doing this weekend?"),
		from("I finally finished the marathon"),
		{Prompt: "ask if they want to come to the concert"},
	}
	for _, req := range reqs {
		first, err := collect(t, p, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) == 0 {
			t.Fatalf("%+v: no suggestions", req)
		}
		for range 20 {
			again, err := collect(t, p, req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(first, again) {
				t.Fatalf("%+v: got %q, then %q", req, first, again)
			}
		}
		// A fresh provider gives the same answer too.
		other, _ := collect(t, newBuiltin(t), req)
		if !slices.Equal(first, other) {
			t.Fatalf("%+v: got %q from one provider and %q from another", req, first, other)
		}
	}
}

func TestBuiltinMaxSuggestions(t *testing.T) {
	p, err := New(Config{MaxSuggestions: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, p, from("Are you free tonight?"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"Yes, sounds good!"}) {
		t.Errorf("got %q, want just the first suggestion", got)
	}
}

func TestBuiltinStopsOnEmitError(t *testing.T) {
	p := newBuiltin(t)
	stop := errors.New("client went away")
	calls := 0
	err := p.Suggest(t.Context(), from("Hi!"), func(string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err = %v after %d calls, want the emit error after 1", err, calls)
	}
}

func TestBuiltinCanceled(t *testing.T) {
	p := newBuiltin(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := p.Suggest(ctx, from("Hi!"), func(string) error {
		t.Error("emit called after cancel")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPromptTooLong(t *testing.T) {
	p := newBuiltin(t)
	_, err := collect(t, p, Request{Prompt: strings.Repeat("é", PromptMax+1)})
	if parley.ErrorCode(err) != parley.EINVALID || parley.ErrorField(err) != "prompt" {
		t.Errorf("err = %v, want invalid prompt", err)
	}
	if _, err := collect(t, p, Request{Prompt: strings.Repeat("é", PromptMax)}); err != nil {
		t.Errorf("prompt of PromptMax characters: %v", err)
	}
}

func TestSalient(t *testing.T) {
	tests := map[string]string{
		"I started my new job today":         "your new job",
		"The movie was long":                 "the movie",
		"I got a puppy!":                     "the puppy",
		"Dinner with Sam was fun":            "Sam",
		"Honestly, the whole thing was fine": "",
		"so tired":                           "tired",
		"":                                   "",
	}
	for in, want := range tests {
		if got := salient(in); got != want {
			t.Errorf("salient(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	p, err := New(Config{Mode: "off", BaseURL: "http://x"})
	if p != nil || err != nil {
		t.Errorf("off: %v, %v; want nil, nil", p, err)
	}
	if p, err := New(Config{BaseURL: "http://localhost:1/v1"}); err != nil || p.Name() != "openai" {
		t.Errorf("BaseURL set, no mode: %v, %v; want openai", p, err)
	}
	if p, err := New(Config{Mode: "openai"}); err != nil || p.Name() != "openai" {
		t.Errorf("openai without BaseURL: %v, %v; want openai (OpenAI's own API)", p, err)
	}
	for _, bad := range []Config{
		{Mode: "magic"},
		{Timeout: -1},
		{MaxSuggestions: -1},
		{MaxSuggestions: MaxSuggestionsLimit + 1},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) succeeded", bad)
		}
	}
}
