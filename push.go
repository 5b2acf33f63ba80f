package parley

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// Notification levels: what a member of a conversation is told about when
// none of their devices has a new message (docs/protocol.md, "Who is
// notified").
const (
	// NotifyDefault follows the conversation: NotifyAll for direct chats
	// and groups of at most NotifyAllMaxMembers members, NotifyMentions
	// above.
	NotifyDefault  = "default"
	NotifyAll      = "all"      // every message
	NotifyMentions = "mentions" // only messages that mention the member
	NotifyOff      = "off"      // nothing
)

// NotifyAllMaxMembers is the largest group whose members are notified of
// every message by default; members of larger groups are notified of
// mentions only unless they choose otherwise.
const NotifyAllMaxMembers = 25

// MuteForever is the muted_until of a conversation muted "always".
var MuteForever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// MuteChoices are the durations a member may mute a conversation for, by
// the name the API takes ("always": MuteForever).
var MuteChoices = map[string]time.Duration{"1h": time.Hour, "8h": 8 * time.Hour, "1w": 7 * 24 * time.Hour, "always": 0}

// NotifySettings is a member's notification choice for one conversation.
type NotifySettings struct {
	// Level is one of the Notify* levels.
	Level string `json:"level"`
	// MutedUntil silences the conversation until then (MuteForever:
	// always); nil when not muted.
	MutedUntil *time.Time `json:"muted_until,omitempty"`
}

// Muted reports whether the settings silence the conversation at now.
func (s NotifySettings) Muted(now time.Time) bool {
	return s.MutedUntil != nil && s.MutedUntil.After(now)
}

// ValidNotifyLevel reports whether level is a level a member may choose.
func ValidNotifyLevel(level string) bool {
	switch level {
	case NotifyDefault, NotifyAll, NotifyMentions, NotifyOff:
		return true
	}
	return false
}

// EffectiveLevel is the level in force for a member who chose level in a
// conversation of kind with memberCount members.
func EffectiveLevel(level, kind string, memberCount int) string {
	if level != NotifyDefault && level != "" {
		return level
	}
	if kind == KindGroup && memberCount > NotifyAllMaxMembers {
		return NotifyMentions
	}
	return NotifyAll
}

// MentionsMax bounds the distinct @names of one message that are looked up
// as mentions; later ones stay plain text.
const MentionsMax = 50

// MentionNames returns the distinct usernames written as @username in text,
// lower case, in order of appearance, at most MentionsMax. An @ counts only
// at the start of the text or after a character that cannot be part of a
// username or an e-mail address, so "bob@example.com" mentions nobody. A
// name ending in '.', '-' or '_' is also returned without them, since
// "thanks @alice." usually ends a sentence; the caller keeps whichever names
// are members.
func MentionNames(text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if len(name) >= UsernameMin && len(name) <= UsernameMax && !seen[name] && len(out) < MentionsMax {
			seen[name] = true
			out = append(out, name)
		}
	}
	for i := 0; i < len(text) && len(out) < MentionsMax; i++ {
		if text[i] != '@' || (i > 0 && isNameByte(text[i-1])) || (i > 0 && text[i-1] == '@') {
			continue
		}
		j := i + 1
		for j < len(text) && isNameByte(text[j]) && j-i-1 < UsernameMax+1 {
			j++
		}
		name := strings.ToLower(text[i+1 : j])
		add(name)
		if trimmed := strings.TrimRight(name, ".-_"); trimmed != name {
			add(trimmed)
		}
		i = j - 1
	}
	return out
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}

// VAPIDKey is the deployment's Web Push application server key pair (RFC
// 8292): a P-256 key, both halves base64url without padding (the public key
// uncompressed, 65 bytes; the private key its 32-byte scalar). Every node
// signs with the same key, kept in the store.
type VAPIDKey struct {
	Public    string
	Private   string
	CreatedAt time.Time
}

// PushSubscription is one browser's (or device's) Web Push subscription:
// where to send (Endpoint, on a push service) and the keys to encrypt for
// (RFC 8291), as PushSubscription.toJSON() gives them.
type PushSubscription struct {
	ID       int64  `json:"id"`
	UserID   int64  `json:"-"`
	Endpoint string `json:"endpoint"`
	P256dh   string `json:"-"`
	Auth     string `json:"-"`
	// Label names the device for its owner ("Firefox on Linux").
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsed is the newest of the last registration and the last push
	// the push service accepted; a subscription unused for
	// PushSubscriptionMaxIdle expires.
	LastUsed time.Time `json:"last_used"`
}

// Web Push limits (docs/protocol.md).
const (
	// PushSubscriptionsMax bounds one user's subscriptions.
	PushSubscriptionsMax = 20
	// PushEndpointMax bounds an endpoint URL in bytes.
	PushEndpointMax = 2048
	// PushLabelMax bounds a subscription's label in characters.
	PushLabelMax = 64
	// PushPayloadMax bounds a notification's JSON before encryption: with
	// RFC 8291's header, padding delimiter and tag it fits the 4096 bytes
	// every push service accepts.
	PushPayloadMax = 3993
	// PushSubscriptionMaxIdle is how long a subscription lives unused.
	PushSubscriptionMaxIdle = 60 * 24 * time.Hour
)

// Web Push urgencies (RFC 8030 section 5.3).
const (
	UrgencyNormal = "normal"
	UrgencyHigh   = "high"
)

// PushMember is a member of a conversation who has at least one push
// subscription and may lack the conversation's newest messages: what the
// push decision needs to know about them.
type PushMember struct {
	UserID       int64
	DeliveredSeq int64
	// PushedSeq is the newest seq a push decision has covered for the
	// member (notified, or decided not to notify).
	PushedSeq int64
	Settings  NotifySettings
	// HideText is the user's "hide message text in notifications".
	HideText bool
	// Unread is the member's unread total over all conversations (the
	// notification badge).
	Unread int64
}

// PushCheck is one conversation as the push decision sees it: the members
// with subscriptions who lack messages, and the messages they may lack
// (text messages, newest last, at most the limit asked for).
type PushCheck struct {
	Conversation Conversation
	Members      []PushMember
	Messages     []Message
}

// PushClaim records the decision for one member: PushedSeq moves from
// FromPushed to ToSeq, only if neither it nor DeliveredSeq has moved since
// the check read them; if Push is set, a pending push is queued for each of
// the member's subscriptions in the same transaction.
type PushClaim struct {
	ConversationID int64
	UserID         int64
	FromPushed     int64
	FromDelivered  int64
	ToSeq          int64
	Push           *PushNotice
}

// PushNotice is a notification to queue for every subscription of a user.
type PushNotice struct {
	Payload []byte // JSON, at most PushPayloadMax bytes
	Urgency string
	Topic   string // RFC 8030 Topic: a later push with the same topic replaces this one
	TTL     time.Duration
	// Since is when the oldest event notified of happened (the push delay
	// histogram starts there).
	Since time.Time
	// Due is when the push may be sent.
	Due time.Time
}

// PendingPush is a push queued in the store for one subscription, with what
// a node needs to send it.
type PendingPush struct {
	ID             int64
	SubscriptionID int64
	UserID         int64
	Endpoint       string
	P256dh         string
	Auth           string
	Host           string // the endpoint's host:port (per-host limits)
	Payload        []byte
	Urgency        string
	Topic          string
	TTL            time.Duration
	Since          time.Time
	Attempts       int
}

// PushHost is the host:port an endpoint URL names (the port of its scheme
// when it names none), lower case: per-host limits and the allowed host
// list use it. It is "" for a URL that does not parse.
func PushHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
