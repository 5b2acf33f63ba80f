package suggest

import (
	"regexp"
	"strings"
)

// Prompt patterns the builtin provider understands, tried in order. Each
// captures the part of the prompt the message is about.
var (
	thanksPromptRE  = regexp.MustCompile(`(?i)^(?:please\s+)?(?:say|send|tell\s+\w+)?\s*(?:thanks|thank\s+you|thank\s+(?:them|him|her|everyone))\b(?:\s+(?:for|about)\s+(.+))?`)
	sorryPromptRE   = regexp.MustCompile(`(?i)^(?:please\s+)?(?:say\s+sorry|say\s+i'?m\s+sorry|sorry|apologi[sz]e|apologies)\b(?:\s+(?:to\s+(?:them|him|her)\s+)?(?:for|about)\s+(.+))?`)
	declinePromptRE = regexp.MustCompile(`(?i)^(?:please\s+)?(?:politely\s+)?(?:decline|say\s+no|turn\s+(?:it|this|that|them|the\s+\w+)\s+down|refuse)\b`)
	acceptPromptRE  = regexp.MustCompile(`(?i)^(?:please\s+)?(?:accept|say\s+yes|agree)\b`)
	askIfPromptRE   = regexp.MustCompile(`(?i)^(?:please\s+)?ask\s+(?:(?:them|him|her|everyone|everybody|the\s+group|\w+)\s+)?(?:if|whether)\s+(.+)`)
	askAboutRE      = regexp.MustCompile(`(?i)^(?:please\s+)?ask\s+(?:(?:them|him|her|everyone|everybody|the\s+group|\w+)\s+)?about\s+(.+)`)
	askToPromptRE   = regexp.MustCompile(`(?i)^(?:please\s+)?ask\s+(?:them|him|her|everyone|everybody|the\s+group|\w+)\s+to\s+(.+)`)
	invitePromptRE  = regexp.MustCompile(`(?i)^(?:please\s+)?invite\s+(?:them|him|her|everyone|everybody|the\s+group|\w+)\s+(?:to|for)\s+(.+)`)
	greetPromptRE   = regexp.MustCompile(`(?i)^(?:please\s+)?(?:say|send|wish\s+\w+)\s+(?:a\s+)?(hi|hello|hey|good\s+morning|good\s+night|happy\s+birthday)\b`)
	tellPromptRE    = regexp.MustCompile(`(?i)^(?:please\s+)?(?:(?:tell|let)\s+(?:them|him|her|everyone|everybody|the\s+group|\w+)\s+(?:know\s+)?|say\s+|mention\s+)(?:that\s+)?(.+)`)
)

// proposalRE matches a prompt that proposes something, which the builtin
// provider follows with "What do you think?".
var proposalRE = regexp.MustCompile(`(?i)^(?:let's|let us|how about|what about|we should|we could|maybe we|shall we|why don't we)\b`)

// fromPrompt turns a prompt into short messages: a handful of common kinds
// of prompt get messages written for them; anything else is tidied into a
// message and lightly expanded.
func fromPrompt(prompt string) []string {
	p := strings.TrimRight(strings.Join(strings.Fields(normalizeQuotes(prompt)), " "), " .!")
	if p == "" {
		return nil
	}
	if m := thanksPromptRE.FindStringSubmatch(p); m != nil {
		if what := toSecondPerson(m[1]); what != "" {
			return []string{
				"Thanks so much for " + what + "!",
				"Thank you for " + what + ", I really appreciate it.",
				"Thanks again for " + what + "!",
			}
		}
		return []string{"Thanks so much!", "Thank you, I really appreciate it.", "Thanks a lot, that means a lot to me."}
	}
	if m := sorryPromptRE.FindStringSubmatch(p); m != nil {
		if what := toSecondPerson(m[1]); what != "" {
			return []string{
				"Sorry about " + what + "!",
				"I'm really sorry for " + what + ".",
				"Apologies for " + what + ", it won't happen again.",
			}
		}
		return []string{"Sorry about that!", "I'm really sorry.", "My apologies, I'll make it right."}
	}
	if declinePromptRE.MatchString(p) {
		return []string{
			"Thanks for asking, but I can't make it this time.",
			"I'd love to, but I'll have to pass.",
			"Sorry, that doesn't work for me. Maybe next time?",
		}
	}
	if acceptPromptRE.MatchString(p) {
		return []string{"Yes, sounds great!", "Count me in!", "Sure, that works for me."}
	}
	if m := askIfPromptRE.FindStringSubmatch(p); m != nil {
		q := yesNoQuestion(toSecondPerson(strings.TrimRight(m[1], "?")))
		return []string{q, "Hey, quick question: " + lowerFirst(q), q + " No worries if not!"}
	}
	if m := askAboutRE.FindStringSubmatch(p); m != nil {
		what := toSecondPerson(strings.TrimRight(m[1], "?"))
		return []string{
			"How's " + what + " going?",
			"Any news about " + what + "?",
			"I was just thinking about " + what + ". How's it going?",
		}
	}
	if m := askToPromptRE.FindStringSubmatch(p); m != nil {
		what := toSecondPerson(strings.TrimRight(m[1], "?"))
		return []string{
			"Could you " + what + "?",
			"Can you " + what + " when you get a chance?",
			"Hey, would you be able to " + what + "?",
		}
	}
	if m := invitePromptRE.FindStringSubmatch(p); m != nil {
		what := toSecondPerson(m[1])
		return []string{
			"Would you like to come to " + what + "?",
			"I'd love for you to join me for " + what + "!",
			"Are you free for " + what + "?",
		}
	}
	if m := greetPromptRE.FindStringSubmatch(p); m != nil {
		switch g := strings.ToLower(strings.Join(strings.Fields(m[1]), " ")); g {
		case "good morning":
			return []string{"Good morning!", "Good morning! Hope you slept well.", "Morning! Have a great day."}
		case "good night":
			return []string{"Good night!", "Good night, sleep well!", "Night! Talk tomorrow."}
		case "happy birthday":
			return []string{"Happy birthday! 🎉", "Happy birthday! Hope you have a wonderful day.", "Happy birthday! Wishing you a great year ahead."}
		default:
			return []string{"Hi!", "Hi, how are you?", "Hey there! Hope you're doing well."}
		}
	}
	if m := tellPromptRE.FindStringSubmatch(p); m != nil {
		s := sentence(toSecondPerson(m[1]))
		return []string{s, "Hey, just a heads-up: " + lowerFirst(s), "Just so you know, " + lowerFirst(s)}
	}
	s := sentence(p)
	if strings.HasSuffix(s, "?") {
		return []string{s, "Hey, quick question: " + lowerFirst(s), s + " No rush!"}
	}
	if proposalRE.MatchString(s) {
		return []string{s, "Hey! " + s, s + " What do you think?"}
	}
	return []string{s, "Hey! " + s, "Just wanted to let you know: " + lowerFirst(s)}
}

// sentence capitalises s and ends it with a full stop unless it already
// ends with punctuation.
func sentence(s string) string {
	s = capitalize(strings.TrimSpace(s))
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

// yesNoQuestion turns a clause about "you" into a question: "you are free"
// → "Are you free?", "you want lunch" → "Do you want lunch?".
func yesNoQuestion(clause string) string {
	w := strings.Fields(clause)
	if len(w) == 0 {
		return ""
	}
	if strings.EqualFold(w[0], "you") && len(w) > 1 {
		switch aux := strings.ToLower(w[1]); aux {
		case "are", "were", "can", "could", "will", "would", "should", "might", "may", "did", "do":
			return capitalize(aux) + " you " + strings.Join(w[2:], " ") + "?"
		case "have", "had": // "you have been" inverts; "you have the keys" does not
			if len(w) > 2 && (strings.EqualFold(w[2], "been") || strings.HasSuffix(strings.ToLower(w[2]), "ed")) {
				return capitalize(aux) + " you " + strings.Join(w[2:], " ") + "?"
			}
			if aux == "had" {
				return "Did you have " + strings.Join(w[2:], " ") + "?"
			}
		}
		return "Do " + clause + "?"
	}
	switch strings.ToLower(w[0]) {
	case "you're":
		return "Are you " + strings.Join(w[1:], " ") + "?"
	case "you've":
		return "Have you " + strings.Join(w[1:], " ") + "?"
	case "you'll":
		return "Will you " + strings.Join(w[1:], " ") + "?"
	case "you'd":
		return "Would you " + strings.Join(w[1:], " ") + "?"
	}
	// "the party is still on" → "Is the party still on?"
	for i := 1; i < len(w) && i < 4; i++ {
		switch aux := strings.ToLower(w[i]); aux {
		case "is", "are", "was", "were", "can", "will":
			rest := append(append([]string{}, w[:i]...), w[i+1:]...)
			return capitalize(aux) + " " + lowerFirst(strings.Join(rest, " ")) + "?"
		}
	}
	return "Is it true that " + clause + "?"
}

// secondPerson maps third-person words in a prompt to the second person:
// the prompt speaks about the reader ("ask if they're free"), the message
// speaks to them ("Are you free?").
var secondPerson = map[string]string{
	"they": "you", "them": "you", "their": "your", "theirs": "yours", "themselves": "yourselves",
	"themself": "yourself", "they're": "you're", "they've": "you've", "they'll": "you'll", "they'd": "you'd",
	"he": "you", "she": "you", "him": "you", "his": "your", "himself": "yourself", "herself": "yourself",
	"he's": "you're", "she's": "you're", "he'll": "you'll", "she'll": "you'll", "he'd": "you'd", "she'd": "you'd",
}

// verbAfterYou fixes the verb that followed "he" or "she": "is" → "are".
var verbAfterYou = map[string]string{
	"is": "are", "was": "were", "has": "have", "does": "do", "isn't": "aren't", "wasn't": "weren't",
	"hasn't": "haven't", "doesn't": "don't",
}

// toSecondPerson rewrites third-person pronouns to the second person.
// "her" becomes "your" before a word and "you" at the end.
func toSecondPerson(s string) string {
	w := strings.Fields(strings.TrimSpace(s))
	for i := 0; i < len(w); i++ {
		low := strings.ToLower(w[i])
		switch {
		case low == "her":
			if i+1 < len(w) && !stopWords[strings.ToLower(w[i+1])] {
				w[i] = "your"
			} else {
				w[i] = "you"
			}
		case secondPerson[low] != "":
			w[i] = secondPerson[low]
			if (low == "he" || low == "she") && i+1 < len(w) {
				w[i+1] = presentForYou(w[i+1])
			}
		}
	}
	return strings.Join(w, " ")
}

// presentForYou conjugates a third-person singular verb for "you": "wants"
// → "want", "goes" → "go", "tries" → "try". Other words are left alone.
func presentForYou(verb string) string {
	low := strings.ToLower(verb)
	if v, ok := verbAfterYou[low]; ok {
		return v
	}
	if stopWords[low] || len(low) < 3 || !isWord(low) {
		return verb
	}
	switch {
	case strings.HasSuffix(low, "ies"):
		return verb[:len(verb)-3] + "y"
	case strings.HasSuffix(low, "oes"), strings.HasSuffix(low, "shes"), strings.HasSuffix(low, "ches"),
		strings.HasSuffix(low, "xes"), strings.HasSuffix(low, "sses"):
		return verb[:len(verb)-2]
	case strings.HasSuffix(low, "s") && !strings.HasSuffix(low, "ss") && !strings.HasSuffix(low, "us"):
		return verb[:len(verb)-1]
	}
	return verb
}
