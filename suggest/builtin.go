package suggest

import (
	"context"
	"hash/fnv"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// builtin is the offline provider: a few English heuristics, no model, no
// network. The same Request always gives the same suggestions.
type builtin struct {
	max int
}

// Name implements Provider.
func (b *builtin) Name() string { return ModeBuiltin }

// Suggest implements Provider. It computes all suggestions at once and emits
// them one by one.
func (b *builtin) Suggest(ctx context.Context, req Request, emit func(string) error) error {
	req, err := checkRequest(req)
	if err != nil {
		return err
	}
	for _, s := range b.suggestions(req) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(s); err != nil {
			return err
		}
	}
	return nil
}

// suggestions returns up to b.max distinct suggestions for a checked request.
func (b *builtin) suggestions(req Request) []string {
	var all []string
	switch {
	case req.Prompt != "":
		all = fromPrompt(req.Prompt)
	case len(req.History) == 0:
		all = starters(req, b.max)
	default:
		all = replies(req.History)
	}
	out := make([]string, 0, b.max)
	seen := make(map[string]bool)
	for _, s := range all {
		if len(out) == b.max {
			break
		}
		if key := strings.ToLower(s); !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	return out
}

// conversationStarters are offered for an empty conversation.
var conversationStarters = []string{
	"Hi! How's your day going?",
	"Hey! What have you been up to lately?",
	"Hi there! Got any fun plans for the weekend?",
	"Hello! What's something good that happened to you this week?",
	"Hey! Read, watched or listened to anything good lately?",
	"Hi! What's keeping you busy these days?",
	"Hey there! If you could travel anywhere right now, where would you go?",
	"Hi! What's your favorite way to spend a free afternoon?",
}

// starters picks n conversation starters. The choice depends on the
// conversation and the person only, so it is stable but differs between
// conversations.
func starters(req Request, n int) []string {
	h := fnv.New32a()
	h.Write([]byte(req.Me))
	h.Write([]byte{0})
	h.Write([]byte(req.ConversationName))
	start := int(h.Sum32() % uint32(len(conversationStarters)))
	out := make([]string, 0, n)
	for i := 0; i < n && i < len(conversationStarters); i++ {
		out = append(out, conversationStarters[(start+i)%len(conversationStarters)])
	}
	return out
}

// replies answers the last message from someone else, or nudges when all
// messages are the person's own.
func replies(history []Turn) []string {
	var last *Turn
	for i := len(history) - 1; i >= 0; i-- {
		if !history[i].Mine {
			last = &history[i]
			break
		}
	}
	if last == nil {
		return []string{
			"Just checking in!",
			"No rush, reply whenever you can.",
			"Hope your day is going well!",
		}
	}
	text := normalizeQuotes(last.Text)
	words := wordsOf(text)
	name := firstName(last.Sender)
	switch {
	case asksHowIAm(text):
		return []string{
			"I'm doing well, thanks! How about you?",
			"Pretty good! How are things with you?",
			"Not bad at all, thanks for asking!",
		}
	case isQuestion(text):
		q := lastQuestion(text)
		if isYesNo(wordsOf(q)) {
			return []string{
				"Yes, sounds good!",
				"Let me check and get back to you.",
				"No, sorry, not this time.",
			}
		}
		if topic := salient(q); topic != "" {
			return []string{
				"Good question, let me think about it.",
				"Hmm, I'm not sure about " + topic + " yet. What do you think?",
				"Let me get back to you on that.",
			}
		}
		return []string{
			"Good question, let me think about it.",
			"Hmm, I'm not sure yet. What do you think?",
			"Let me get back to you on that.",
		}
	case isThanks(words):
		return []string{"You're welcome!", "No problem at all!", "Anytime, happy to help!"}
	case greeting(words) != "":
		g := greeting(words)
		return []string{
			greet(g, name) + "! How are you?",
			g + "! Great to hear from you.",
			greet(g, name) + ", how's it going?",
		}
	case isGoodbye(text):
		if strings.Contains(strings.ToLower(text), "night") {
			return []string{"Good night! Sleep well.", "Night! Talk tomorrow.", "Take care!"}
		}
		return []string{"Bye! Talk soon.", "See you later!", "Take care!"}
	case isAck(text):
		return []string{"Great!", "Sounds good!", "Perfect, talk soon!"}
	}
	if topic := salient(text); topic != "" {
		return []string{
			followUp(topic),
			"How do you feel about " + phraseOrThat(topic) + "?",
			"Got it, thanks for letting me know.",
		}
	}
	return []string{
		"Oh, tell me more!",
		"How do you feel about that?",
		"Got it, thanks for letting me know.",
	}
}

// followUp asks about a topic: a phrase ("your new job") or a single word.
func followUp(topic string) string {
	if strings.Contains(topic, " ") {
		return "Oh, tell me more about " + topic + "!"
	}
	return capitalize(topic) + "? Tell me more!"
}

// phraseOrThat returns a multi-word topic, and "that" for a bare word (which
// may be an adjective or a verb and reads badly after "about").
func phraseOrThat(topic string) string {
	if strings.Contains(topic, " ") {
		return topic
	}
	return "that"
}

// greet joins a greeting and a name: "Hey Alice", or "Hey" without a name.
func greet(g, name string) string {
	if name == "" {
		return g
	}
	return g + " " + name
}

// firstName returns the first word of a display name.
func firstName(sender string) string {
	if f := strings.Fields(sender); len(f) > 0 {
		return f[0]
	}
	return ""
}

// normalizeQuotes replaces typographic apostrophes with ASCII ones.
func normalizeQuotes(s string) string {
	return strings.NewReplacer("’", "'", "‘", "'", "“", `"`, "”", `"`).Replace(s)
}

// wordsOf returns the lower-case words of s (letters, digits, apostrophes).
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

var (
	howAreYouRE = regexp.MustCompile(`(?i)\b(?:how are (?:you|u|ya)|how(?:'s| is) it going|how are things|how(?:'s| is) your day|how have you been|how you doing|what's up|whats up|sup)\b`)
	goodbyeRE   = regexp.MustCompile(`(?i)^(?:ok(?:ay)?[,!. ]+)?(?:bye|goodbye|bye bye|see (?:you|ya)|cya|good ?night|gn|ttyl|talk (?:to you )?(?:later|soon|tomorrow)|later|catch you later|take care)\b`)
	ackRE       = regexp.MustCompile(`(?i)^(?:ok|okay|k|kk|cool|great|nice|awesome|perfect|sure|sounds good|got it|lol|haha+|yes|yep|yeah|no problem|np|alright|👍|👌|🙂|😊)[\s!.👍🙂😊]*$`)
)

func asksHowIAm(text string) bool { return howAreYouRE.MatchString(text) }
func isGoodbye(text string) bool  { return goodbyeRE.MatchString(strings.TrimSpace(text)) }
func isAck(text string) bool      { return ackRE.MatchString(strings.TrimSpace(text)) }

var (
	whWords  = set("what", "when", "where", "who", "whom", "whose", "why", "how", "which")
	auxWords = set("are", "is", "am", "was", "were", "can", "could", "would", "will", "should",
		"shall", "do", "does", "did", "have", "has", "had", "may", "might", "want", "wanna",
		"fancy", "shall", "isn't", "aren't", "don't", "doesn't", "didn't", "won't", "can't")
	pronouns = set("you", "u", "ya", "we", "i", "they", "he", "she", "it", "there", "this", "that", "anyone", "everyone")
)

// isQuestion reports whether text asks something: it has a question mark,
// or starts like a question ("what …", "are you …") and does not end like a
// statement.
func isQuestion(text string) bool {
	t := strings.TrimSpace(text)
	if strings.Contains(t, "?") {
		return true
	}
	if strings.HasSuffix(t, ".") || strings.HasSuffix(t, "!") {
		return false
	}
	w := wordsOf(t)
	if len(w) < 2 {
		return false
	}
	return whWords[w[0]] || (auxWords[w[0]] && pronouns[w[1]])
}

// lastQuestion returns the last sentence of text that ends with "?", or the
// whole text when none does.
func lastQuestion(text string) string {
	end := strings.LastIndex(text, "?")
	if end < 0 {
		return text
	}
	start := strings.LastIndexAny(text[:end], ".!?\n") + 1
	return strings.TrimSpace(text[start : end+1])
}

// isYesNo reports whether a question's words ask for a yes or no: it does
// not start with a question word, or it is a proposal ("how about …").
func isYesNo(w []string) bool {
	for len(w) > 0 && (greetingWords[w[0]] || w[0] == "so" || w[0] == "and" || w[0] == "hey" || w[0] == "oh") {
		w = w[1:]
	}
	if len(w) == 0 {
		return true
	}
	if len(w) > 1 && (w[0] == "how" || w[0] == "what") && w[1] == "about" {
		return true
	}
	return !whWords[w[0]]
}

func isThanks(w []string) bool {
	for i, x := range w {
		switch x {
		case "thanks", "thx", "ty", "thanx", "tysm", "appreciate", "appreciated", "cheers":
			return true
		case "thank":
			return i+1 < len(w) && (w[i+1] == "you" || w[i+1] == "u")
		}
	}
	return false
}

var greetingWords = set("hi", "hello", "hey", "heya", "hiya", "howdy", "yo", "hej", "greetings", "morning", "evening")

// greeting returns the greeting to answer with, mirroring the one in the
// message ("Good morning" for "good morning!"), or "" if the message does
// not start with a greeting.
func greeting(w []string) string {
	if len(w) == 0 {
		return ""
	}
	if len(w) > 1 && w[0] == "good" {
		switch w[1] {
		case "morning", "afternoon", "evening", "day":
			return "Good " + w[1]
		}
	}
	switch w[0] {
	case "hello":
		return "Hello"
	case "hey", "heya", "yo":
		return "Hey"
	case "morning":
		return "Good morning"
	case "evening":
		return "Good evening"
	}
	if greetingWords[w[0]] {
		return "Hi"
	}
	return ""
}

// stopWords are skipped when looking for what a message is about.
var stopWords = set(
	"a", "an", "the", "and", "or", "but", "so", "if", "then", "than", "because", "as", "of", "at", "by",
	"for", "with", "about", "to", "from", "in", "on", "into", "onto", "up", "down", "out", "off", "over",
	"under", "again", "just", "really", "very", "too", "also", "still", "even", "only", "quite", "pretty",
	"i", "i'm", "i've", "i'll", "i'd", "me", "my", "mine", "myself", "you", "you're", "your", "yours",
	"he", "him", "his", "she", "her", "it", "it's", "its", "we", "we're", "us", "our", "they", "they're",
	"them", "their", "this", "that", "these", "those", "there", "here", "what", "which", "who", "whom",
	"whose", "when", "where", "why", "how", "is", "am", "are", "was", "were", "be", "been", "being",
	"have", "has", "had", "do", "does", "did", "doing", "done", "will", "would", "can", "could", "should",
	"shall", "may", "might", "must", "not", "no", "yes", "don't", "didn't", "doesn't", "can't", "won't",
	"isn't", "aren't", "wasn't", "get", "got", "getting", "go", "going", "went", "gone", "make", "made",
	"think", "know", "like", "want", "need", "let", "let's", "some", "any", "all", "each", "every", "more",
	"most", "much", "many", "lot", "lots", "thing", "things", "something", "anything", "nothing", "one",
	"today", "tomorrow", "yesterday", "tonight", "now", "later", "soon", "ago", "yet", "already", "always",
	"never", "sometimes", "time", "day", "week", "weekend", "ok", "okay", "yeah", "yep", "oh", "well",
	"hi", "hello", "hey", "thanks", "thank", "please", "sure", "maybe", "actually", "literally", "gonna",
	"wanna", "tell", "say", "said", "see", "saw", "look",
)

// weakWords may sit inside a topic phrase ("my new job") but are not a topic
// on their own.
var weakWords = set("new", "old", "good", "great", "nice", "big", "little", "small", "first", "last",
	"next", "other", "same", "whole", "bad", "best", "amazing", "awesome", "cool", "fun", "funny",
	"fine", "okay", "sorry", "sure", "right", "wrong", "true", "real", "much", "many", "kind", "sort")

// possessives maps a determiner in someone else's message to the one the
// reply uses ("my trip" becomes "your trip"). Absent determiners are not
// used to find a topic.
var possessives = map[string]string{
	"my": "your", "our": "our", "the": "the", "a": "the", "an": "the",
	"his": "his", "her": "her", "their": "their", "this": "that", "that": "that",
}

// salient picks what a message is about, for a follow-up: the first
// determiner phrase ("my new job" → "your new job"), else a capitalised
// name inside the message, else its longest content word.
func salient(text string) string {
	raw := strings.FieldsFunc(normalizeQuotes(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	})
	low := make([]string, len(raw))
	for i, w := range raw {
		low[i] = strings.ToLower(w)
	}
	for i, w := range low {
		det, ok := possessives[w]
		if !ok {
			continue
		}
		var phrase []string
		// Adjectives we know, then one more word: "my new job", "the movie".
		for j := i + 1; j < len(low) && len(phrase) < 3 && !stopWords[low[j]] && isWord(low[j]); j++ {
			phrase = append(phrase, low[j])
			if !weakWords[low[j]] {
				break
			}
		}
		for len(phrase) > 0 && weakWords[phrase[len(phrase)-1]] {
			phrase = phrase[:len(phrase)-1]
		}
		if len(phrase) > 0 {
			return det + " " + strings.Join(phrase, " ")
		}
	}
	for i, w := range raw {
		if i > 0 && isCapitalised(w) && !stopWords[low[i]] && !sentenceStart(text, w) {
			return w
		}
	}
	best := ""
	for _, w := range low {
		// Adverbs ("honestly") make poor topics.
		if !stopWords[w] && !weakWords[w] && !strings.HasSuffix(w, "ly") && isWord(w) && utf8.RuneCountInString(w) >= 4 &&
			utf8.RuneCountInString(w) > utf8.RuneCountInString(best) {
			best = w
		}
	}
	return best
}

// isWord reports whether w is made of letters (with inner apostrophes or
// hyphens).
func isWord(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
		} else if r != '\'' && r != '-' {
			return false
		}
	}
	return letters > 0
}

func isCapitalised(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r) && w != "I" && !strings.HasPrefix(w, "I'")
}

// sentenceStart reports whether the first occurrence of w in text starts a
// sentence (and so is capitalised for that reason alone).
func sentenceStart(text, w string) bool {
	i := strings.Index(text, w)
	before := strings.TrimRight(text[:max(i, 0)], " \t\"'(")
	return before == "" || strings.HasSuffix(before, ".") || strings.HasSuffix(before, "!") ||
		strings.HasSuffix(before, "?") || strings.HasSuffix(before, "\n")
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// lowerFirst lower-cases the first letter of s, unless s starts with "I"
// as a word or looks like an acronym or a name in capitals.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || s == "I" || strings.HasPrefix(s, "I ") || strings.HasPrefix(s, "I'") {
		return s
	}
	if r2, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(r2) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
