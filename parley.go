// Package parley holds Parley's domain: users, sessions, conversations,
// members, messages and receipts, the error codes, the input limits, and the
// two seams every node runs on: Store (durable state) and Bus (events between
// nodes). It imports no driver; sqlite/, postgres/, hub/ and nats/ implement
// the seams.
package parley

import "time"

// User is a person with an account.
type User struct {
	ID                int64  `json:"id"`
	Username          string `json:"username"`
	Email             string `json:"email,omitempty"` // only shown to the user themself
	DisplayName       string `json:"display_name"`
	AcceptingMessages bool   `json:"accepting_messages"`
	// AvatarURL is where the profile photo is; absent without one.
	AvatarURL string    `json:"avatar_url,omitempty"`
	AvatarKey string    `json:"-"` // the photo's blob
	CreatedAt time.Time `json:"created_at"`
	// LastSeen is when the user's last connection closed (nil: never, or
	// online now as far as the store knows).
	LastSeen *time.Time `json:"last_seen,omitempty"`

	// HideNotificationText replaces message text in the user's push
	// notifications by "New message" (only shown to the user themself).
	HideNotificationText bool `json:"hide_notification_text,omitempty"`

	// Deleted marks an account its owner deleted (see DeletedName).
	Deleted bool `json:"deleted,omitempty"`

	// Role is the instance role, InstanceAdmin or InstanceMember (shown
	// to the user themself and to admins).
	Role string `json:"role,omitempty"`
	// DisabledAt is when an admin disabled the account (nil: enabled;
	// shown to admins).
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// IsAdmin reports whether the user administers the instance.
func (u User) IsAdmin() bool { return u.Role == InstanceAdmin }

// A deleted account keeps its id, so that its messages keep their sender:
// its username becomes "~" and the id (a form no sign-up can take) and its
// display name DeletedName, wherever it appears (User, UserRef, Member).
const DeletedName = "Deleted account"

// IsDeletedUsername reports whether username is a deleted account's.
func IsDeletedUsername(username string) bool { return len(username) > 0 && username[0] == '~' }

// UserRef names a message's sender.
type UserRef struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// Public returns the user as other people may see them (no email).
func (u User) Public() User {
	u.Email = ""
	u.HideNotificationText = false
	u.Role, u.DisabledAt = "", nil
	return u
}

// Session is one logged-in device or browser. Only the SHA-256 hash of its
// token is stored.
type Session struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"-"`
	TokenHash []byte    `json:"-"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"` // set by the API for the caller's own session
}

// Conversation kinds.
const (
	KindDirect = "direct"
	KindGroup  = "group"
)

// Member roles in a group. Direct conversations have two members of role
// RoleMember.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Conversation is a direct chat (exactly two members, one per pair of users)
// or a group.
type Conversation struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`           // group name; for a direct chat the API fills in the other person
	Code string `json:"code,omitempty"` // group join code
	// PhotoURL is where a group's photo is; absent without one.
	PhotoURL  string    `json:"photo_url,omitempty"`
	PhotoKey  string    `json:"-"` // the photo's blob
	CreatedAt time.Time `json:"created_at"`
	LastSeq   int64     `json:"last_seq"` // seq of the newest message, 0 when empty
	LastMod   int64     `json:"last_mod"` // newest change counter (new, edited or deleted message)
	// LastActivity is the time of the newest message (or creation).
	LastActivity time.Time `json:"last_activity"`
	MemberCount  int       `json:"member_count"`
}

// Member is a user's membership of a conversation with their receipt marks.
// DeliveredSeq and ReadSeq are high-water marks: they only move forward, and
// ReadSeq <= DeliveredSeq <= the conversation's LastSeq.
type Member struct {
	ConversationID int64     `json:"conversation_id"`
	UserID         int64     `json:"user_id"`
	Username       string    `json:"username"`
	DisplayName    string    `json:"display_name"`
	AvatarURL      string    `json:"avatar_url,omitempty"`
	Role           string    `json:"role"`
	JoinedAt       time.Time `json:"joined_at"`
	DeliveredSeq   int64     `json:"delivered_seq"`
	ReadSeq        int64     `json:"read_seq"`
}

// CanModerate reports whether the member may rename, rotate the code, change
// roles, remove members and delete others' messages.
func (m Member) CanModerate() bool { return m.Role == RoleOwner || m.Role == RoleAdmin }

// ConversationSummary is one row of a user's conversation list.
type ConversationSummary struct {
	Conversation
	Role         string   `json:"role"`
	ReadSeq      int64    `json:"read_seq"`
	DeliveredSeq int64    `json:"delivered_seq"`
	Unread       int64    `json:"unread"`
	LastMessage  *Message `json:"last_message,omitempty"`
	// Peer is the other member of a direct conversation.
	Peer *User `json:"peer,omitempty"`

	// UnreadMentions counts the unread messages that mention the user.
	UnreadMentions int64 `json:"unread_mentions"`
	// Notify is the user's notification settings for the conversation.
	Notify NotifySettings `json:"notify"`
}

// Message kinds.
const (
	MessageText   = "text"
	MessageSystem = "system"
)

// System events recorded as system messages.
const (
	SysCreated     = "created"
	SysJoined      = "joined"
	SysLeft        = "left"
	SysRemoved     = "removed"
	SysRenamed     = "renamed"
	SysRoleChanged = "role_changed"
	SysCodeRotated = "code_rotated"
	SysCall        = "call"
	SysAdded       = "added" // an admin added someone (ActorID the admin, TargetID the person)
)

// Message is one entry of a conversation's history. Seq is gap-free per
// conversation. Mod is the conversation's change counter at the message's
// latest change (creation, edit or deletion); sync uses it to send edits and
// deletions of messages a device already holds.
type Message struct {
	ID             int64       `json:"id"`
	ConversationID int64       `json:"conversation_id"`
	Seq            int64       `json:"seq"`
	Mod            int64       `json:"mod"`
	SenderID       int64       `json:"sender_id"`        // 0 for system messages without an actor
	Sender         *UserRef    `json:"sender,omitempty"` // filled by the store; nil when SenderID is 0
	ClientMsgID    string      `json:"client_msg_id,omitempty"`
	Kind           string      `json:"kind"`
	Text           string      `json:"text"`
	System         *SystemInfo `json:"system,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
	EditedAt       *time.Time  `json:"edited_at,omitempty"`
	DeletedAt      *time.Time  `json:"deleted_at,omitempty"`

	// Mentions are the ids of the members the text mentions (@username).
	Mentions []int64 `json:"mentions,omitempty"`
	// Attachments are the files the message carries, in the order sent.
	Attachments []Attachment `json:"attachments,omitempty"`
	// ReplyTo is the seq of the message this one answers (0: none);
	// Reply is what it shows of that message as it stands now.
	ReplyTo int64         `json:"reply_to,omitempty"`
	Reply   *ReplyPreview `json:"reply,omitempty"`
	// Reactions are the emoji people put on the message, in the order
	// each first appeared (absent when there are none).
	Reactions []Reaction `json:"reactions,omitempty"`
	// Forwarded marks a message its sender forwarded from another
	// conversation. Nothing else of the original is kept: not where it
	// came from, nor who wrote it.
	Forwarded bool `json:"forwarded,omitempty"`
}

// SystemInfo describes a system message: what happened, who did it, to whom.
type SystemInfo struct {
	Event    string `json:"event"`
	ActorID  int64  `json:"actor_id,omitempty"`
	TargetID int64  `json:"target_id,omitempty"`
	Name     string `json:"name,omitempty"` // new group name, new role, call outcome
	Media    string `json:"media,omitempty"`
	Seconds  int64  `json:"seconds,omitempty"` // call duration
}

// Ban records that an admin (By) removed a user from a group (At): until an
// admin adds them back, they cannot rejoin by the group's code.
type Ban struct {
	ConversationID int64     `json:"conversation_id"`
	UserID         int64     `json:"user_id"`
	By             int64     `json:"by,omitempty"` // 0 once that admin's account is gone
	At             time.Time `json:"at"`
}
