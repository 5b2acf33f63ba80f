package parley

import (
	"context"
	"time"
)

// Store is Parley's durable state. sqlite.Store and postgres.Store implement
// it; storetest.Run checks both against the same suite. A node calls it
// through WithTimeout (store_timeout.go), which gives every call a
// deadline: a method added to Store is added there too.
//
// Every method returns *Error values for outcomes a client may see (ENOTFOUND,
// EUSERNAMETAKEN, ...), ErrUnavailable when the database cannot be reached,
// and other errors only for bugs. All times are UTC, truncated to
// microseconds.
type Store interface {
	UserStore
	PresenceStore
	SessionStore
	ConversationStore
	MessageStore
	AttemptStore
	BanStore
	PruneStore
	NotifyStore
	PushStore
	HealthStore
	HeadStore
	UploadStore
	ReactionStore
	AccountStore
	AdminStore
	ReportStore
	PinStore
	ChatListStore
	SearchStore
	Close() error
}

// ConvHead is where a conversation's history stands: the seq of its newest
// message and its change counter (Conversation.LastSeq and LastMod).
type ConvHead struct {
	ID      int64
	LastSeq int64
	LastMod int64
}

// HeadStore lets a node compare the message events it has delivered with
// what is stored, to find those the bus lost (package repair).
type HeadStore interface {
	// ConversationHeads returns the heads of those of the conversations
	// ids that exist, in no particular order. ErrUnavailable when the
	// database cannot be reached.
	ConversationHeads(ctx context.Context, ids []int64) ([]ConvHead, error)
	// UserConversationHeads returns the heads of userID's conversations,
	// ascending by id. ErrUnavailable when the database cannot be reached.
	UserConversationHeads(ctx context.Context, userID int64) ([]ConvHead, error)
}

// HealthStore tells whether the database can be used, for readiness checks.
type HealthStore interface {
	// Ping checks that the database answers: ErrUnavailable otherwise.
	Ping(ctx context.Context) error
	// CheckWrite commits a small write (it rewrites one row of its own):
	// ErrUnavailable when the database cannot write, as on a full disk or
	// a read-only database, even while it answers reads.
	CheckWrite(ctx context.Context) error
}

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser stores a new user with a password hash and sets u.ID and
	// u.CreatedAt. Username and Email must already be normalized (lower
	// case). A taken username gives EUSERNAMETAKEN, a taken email
	// EEMAILTAKEN. With u.Role empty the user becomes InstanceAdmin if no
	// user exists yet (of concurrent first sign-ups, on any node, exactly
	// one), else InstanceMember; u.Role is set to what was stored.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// User returns a user by id, ENOTFOUND if there is none.
	User(ctx context.Context, id int64) (User, error)
	// UserByUsername returns a user by normalized username.
	UserByUsername(ctx context.Context, username string) (User, error)
	// UserByLogin returns the user whose normalized username or email equals
	// login, with the password hash.
	UserByLogin(ctx context.Context, login string) (User, string, error)
	// SearchUsers returns up to limit users whose username starts with
	// prefix (normalized), ordered by username.
	SearchUsers(ctx context.Context, prefix string, limit int) ([]User, error)
	// UpdateUser changes the fields that are non-nil and returns the user.
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (User, error)

	// AddLoginFailure records one failed login at time at for each key.
	AddLoginFailure(ctx context.Context, keys []string, at time.Time) error
	// LoginFailures counts the failures recorded for key at or after since.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, error)
	// ClearLoginFailures forgets the failures of key.
	ClearLoginFailures(ctx context.Context, key string) error
}

// AccountStore keeps what a person does to their own account: their
// password, their blocks, its deletion.
type AccountStore interface {
	// DeleteUser deletes an account in one transaction. The user leaves
	// every group as RemoveMember does (a SysLeft message each, ownership
	// handed over); their sessions, push subscriptions, blocks (theirs and
	// of them), profile photo and the records of when their marks moved
	// (SetMarks) go; their email is freed. The row stays
	// for their messages and direct chats: username "~<id>", display name
	// DeletedName, Deleted set, not accepting messages (so their direct
	// chats take no more messages). Their old username is retired until
	// retireUntil: CreateUser refuses it (EUSERNAMETAKEN) until then. It
	// returns the system messages appended. ENOTFOUND if there is no such
	// user or it is deleted already. Lookups by username or login and
	// SearchUsers no longer find it; User still does.
	DeleteUser(ctx context.Context, userID int64, retireUntil, now time.Time) ([]Message, error)
	// PruneRetiredUsernames forgets up to limit usernames whose
	// retirement ended before before (they are free either way) and
	// returns how many; as PruneStore's methods, safe on several nodes.
	PruneRetiredUsernames(ctx context.Context, before time.Time, limit int) (int, error)

	// Block records that blockerID takes no direct messages or calls from
	// blockedID: appends of blockedID's text messages to their direct chat
	// are refused with ENOTACCEPTING (as if blockerID did not accept
	// messages), seen by the next append on any node. Blocking again
	// changes nothing. ENOTFOUND if blockedID is no user (or deleted).
	Block(ctx context.Context, blockerID, blockedID int64, now time.Time) error
	// Unblock lifts blockerID's block of blockedID; no block is no error.
	Unblock(ctx context.Context, blockerID, blockedID int64) error
	// Blocks lists the people blockerID blocks, ordered by username.
	Blocks(ctx context.Context, blockerID int64) ([]User, error)
	// Blocked reports whether blockerID blocks blockedID.
	Blocked(ctx context.Context, blockerID, blockedID int64) (bool, error)

	// SetPassword replaces the user's password hash and, in the same
	// transaction, deletes every session of theirs but keepSessionID (0
	// keeps none); it returns the ids of the sessions deleted. ENOTFOUND
	// if there is no such user.
	SetPassword(ctx context.Context, userID int64, passwordHash string, keepSessionID int64) ([]int64, error)
}

// AttemptLimit bounds the attempts recorded for Key at or after Since to Max.
type AttemptLimit struct {
	Key   string
	Max   int
	Since time.Time
}

// AttemptStore counts attempts that are limited per key on every node at
// once: failed logins, sign-ups, failed joins. Keys are opaque strings that
// the service chooses (see service/limits.go); they share the table of
// AddLoginFailure.
type AttemptStore interface {
	// ReserveAttempt records one attempt at time at for the key of each
	// limit, if every key has fewer than its Max attempts at or after its
	// Since, and returns -1. Otherwise it records nothing and returns the
	// index of the first limit that is full. Concurrent calls, on any node,
	// never record more than Max attempts for a key within a window.
	// ErrUnavailable when the database cannot be reached.
	ReserveAttempt(ctx context.Context, at time.Time, limits []AttemptLimit) (int, error)
	// ForgetAttempt deletes one attempt recorded at time at for each key
	// (if there is one): it takes back a reservation that turned out not to
	// count. ErrUnavailable when the database cannot be reached.
	ForgetAttempt(ctx context.Context, keys []string, at time.Time) error
}

// PruneStore deletes rows that count for nothing any more. Several nodes
// may run it at once: each row is deleted once, none of them fails for
// it, and a call that finds nothing to delete changes nothing. Both
// methods delete at most limit rows (so that no call holds the database
// for long: call again while they return limit) and return how many they
// deleted; ErrUnavailable when the database cannot be reached.
type PruneStore interface {
	// PruneAttempts deletes attempts (AttemptStore, AddLoginFailure)
	// recorded before before.
	PruneAttempts(ctx context.Context, before time.Time, limit int) (int, error)
	// PruneSessions deletes sessions that expired before before.
	PruneSessions(ctx context.Context, before time.Time, limit int) (int, error)
}

// PresenceStore keeps when people were last online (presence shows it to
// their contacts).
type PresenceStore interface {
	// SetLastSeen records when a user was last online; ENOTFOUND if there
	// is no such user.
	SetLastSeen(ctx context.Context, id int64, at time.Time) error
	// LastSeen returns, in one query, when each of ids was last online.
	// Users never seen, and ids of no user, are left out.
	LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error)
}

// UserUpdate holds the changeable fields of a user; nil means unchanged.
type UserUpdate struct {
	DisplayName       *string
	AcceptingMessages *bool
	// HideNotificationText hides message text in the user's push
	// notifications.
	HideNotificationText *bool
}

// SessionStore keeps login sessions.
type SessionStore interface {
	// CreateSession stores s and sets its ID.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns the session with that token hash if it has
	// not expired at now; ENOTFOUND otherwise.
	SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (Session, error)
	// TouchSession sets a session's last use and expiry.
	TouchSession(ctx context.Context, id int64, lastUsed, expiresAt time.Time) error
	// Sessions lists a user's unexpired sessions, newest use first.
	Sessions(ctx context.Context, userID int64, now time.Time) ([]Session, error)
	// DeleteSession deletes one of the user's sessions; ENOTFOUND if the user
	// has no such session.
	DeleteSession(ctx context.Context, userID, sessionID int64) error
	// DeleteOtherSessions deletes all of the user's sessions but keepID and
	// returns the ids deleted.
	DeleteOtherSessions(ctx context.Context, userID, keepID int64) ([]int64, error)
}

// ConversationStore keeps conversations and their members. Methods that
// change membership or a group's name append the matching system message in
// the same transaction and return it.
type ConversationStore interface {
	// CreateGroup creates a group with owner as its only member (role
	// owner) and appends a SysCreated system message. ECODETAKEN if the code
	// is taken (without regard to case).
	CreateGroup(ctx context.Context, name, code string, owner int64, now time.Time) (Conversation, Message, error)
	// Direct returns the direct conversation of users a and b, creating it
	// (both members, role member) if it does not exist; created tells which.
	// Concurrent calls for the same pair return the same conversation.
	Direct(ctx context.Context, a, b int64, now time.Time) (c Conversation, created bool, err error)
	// Conversation returns a conversation by id.
	Conversation(ctx context.Context, id int64) (Conversation, error)
	// GroupByCode returns a group by join code, without regard to case;
	// EGROUPNOTFOUND if there is none.
	GroupByCode(ctx context.Context, code string) (Conversation, error)
	// Member returns a current member; ENOTFOUND if userID is not one.
	Member(ctx context.Context, conversationID, userID int64) (Member, error)
	// Members lists current members ordered by join time.
	Members(ctx context.Context, conversationID int64) ([]Member, error)
	// ConversationIDs lists the ids of the conversations userID is a
	// member of.
	ConversationIDs(ctx context.Context, userID int64) ([]int64, error)
	// Conversations lists userID's conversations, newest activity first,
	// with marks, unread count, last message and, for direct ones, the peer.
	Conversations(ctx context.Context, userID int64) ([]ConversationSummary, error)
	// Contacts lists the distinct users who share a conversation with
	// userID in a direct chat or a group of at most maxGroup members.
	Contacts(ctx context.Context, userID int64, maxGroup int) ([]int64, error)

	// AddMember adds userID to a group with role member (they join by the
	// code) and appends a SysJoined message. If already a member it returns
	// the member, added=false and no message. EGROUPFULL at maxMembers
	// members; EFORBIDDEN if userID is banned (see BanStore).
	AddMember(ctx context.Context, conversationID, userID int64, maxMembers int, now time.Time) (m Member, added bool, sys Message, err error)
	// RemoveMember ends userID's membership and appends SysLeft (when actor
	// == userID) or SysRemoved; a removal (actor != userID) also records a
	// Ban in the same transaction. ENOTFOUND if not a member. When the owner
	// leaves, the longest-standing admin, or else member, becomes owner.
	RemoveMember(ctx context.Context, conversationID, userID, actor int64, now time.Time) (Message, error)
	// SetRole changes a member's role and appends SysRoleChanged. Making
	// someone owner hands ownership over: the previous owner becomes admin
	// in the same transaction. The owner's role changes only that way
	// (EINVALID otherwise).
	SetRole(ctx context.Context, conversationID, userID int64, role string, actor int64, now time.Time) (Member, Message, error)
	// RenameGroup renames a group and appends SysRenamed.
	RenameGroup(ctx context.Context, conversationID int64, name string, actor int64, now time.Time) (Conversation, Message, error)
	// SetCode sets a group's join code (ECODETAKEN if taken) and appends
	// SysCodeRotated (the message does not contain the code).
	SetCode(ctx context.Context, conversationID int64, code string, actor int64, now time.Time) (Conversation, Message, error)
}

// BanStore keeps who was removed from a group by an admin: such a removal
// is a ban (see RemoveMember), which stops AddMember until an admin adds
// the person back with AddMemberBy.
type BanStore interface {
	// Ban returns userID's ban from a group; ENOTFOUND if there is none.
	Ban(ctx context.Context, conversationID, userID int64) (Ban, error)
	// AddMemberBy adds userID to a group with role member on behalf of
	// actor (an admin: the caller checks), lifting any ban, and appends a
	// SysAdded message (ActorID actor, TargetID userID). If already a
	// member it returns the member, added=false and no message. EGROUPFULL
	// at maxMembers members; ENOTFOUND if there is no such group or user.
	AddMemberBy(ctx context.Context, conversationID, userID, actor int64, maxMembers int, now time.Time) (m Member, added bool, sys Message, err error)
}

// NewMessage is a message to append.
type NewMessage struct {
	ConversationID int64
	SenderID       int64
	ClientMsgID    string // empty for system messages
	Kind           string // MessageText or MessageSystem
	Text           string
	System         *SystemInfo
	CreatedAt      time.Time
	// Mentions are the ids of the members the text mentions, stored with
	// the message in the same transaction.
	Mentions []int64
	// Attachments are the ids of uploads to attach, in order. Each must be
	// the sender's and not attached yet, else the append fails with
	// ErrBadAttachments and stores nothing; in the same transaction as the
	// message they become its attachments (Message.Attachments).
	Attachments []int64
	// ReplyTo is the seq of the message this one answers (0: none). It
	// must be a message of the conversation, else the append fails with
	// ErrBadReplyTo; the stored message comes with its preview
	// (Message.Reply).
	ReplyTo int64
	// Forwarded marks a message forwarded from another conversation
	// (Message.Forwarded).
	Forwarded bool
}

// MessageQuery selects a page of history. With AroundSeq set, the page is
// the Limit/2 messages just before it and the Limit-Limit/2 messages from
// it on (the message at AroundSeq first); with BeforeSeq set, the Limit
// messages just before it; otherwise the Limit messages just after
// AfterSeq. Results are always in ascending seq order.
type MessageQuery struct {
	AfterSeq  int64
	BeforeSeq int64
	AroundSeq int64
	Limit     int
}

// MessageStore keeps messages and receipt marks.
type MessageStore interface {
	// AppendMessage stores a message with seq = last_seq + 1 in the same
	// transaction that advances the conversation's last_seq and last_mod,
	// and returns it after the commit. A text message's sender must be a
	// current member (ENOTFOUND otherwise) and, in a direct conversation,
	// the other member must accept messages and not block the sender
	// (ENOTACCEPTING otherwise, the same answer for both);
	// both are checked in the transaction that appends. If the sender
	// already sent ClientMsgID in this conversation, it returns the
	// original message and created=false, storing nothing: answered
	// before the acceptance rule (a resend only repeats what was once
	// accepted) but after membership (a removed member's resend is
	// ENOTFOUND like any other append of theirs).
	// Implementations may commit many concurrent appends together, but
	// never acknowledge before the commit. The sender's delivered and read
	// marks move to the new seq.
	AppendMessage(ctx context.Context, m NewMessage) (msg Message, created bool, err error)
	// Messages returns a page of history. Messages that reply to another
	// come with its preview (Message.Reply), as do those of Message and
	// Changes.
	Messages(ctx context.Context, conversationID int64, q MessageQuery) ([]Message, error)
	// Message returns one message by seq.
	Message(ctx context.Context, conversationID, seq int64) (Message, error)
	// Changes returns messages with seq <= maxSeq changed (edited or
	// deleted) after mod afterMod, in mod order, at most limit.
	Changes(ctx context.Context, conversationID, afterMod, maxSeq int64, limit int) ([]Message, error)
	// EditMessage replaces the text and the mentions of a text message,
	// sets EditedAt and a new Mod. Only the sender may edit (EFORBIDDEN); a
	// deleted message cannot be edited (EINVALID).
	EditMessage(ctx context.Context, conversationID, seq, editor int64, text string, mentions []int64, now time.Time) (Message, error)
	// DeleteMessage turns a text message into a tombstone (text and
	// mentions emptied, attachments deleted and their blobs released,
	// DeletedAt set, new Mod). byModerator allows
	// deleting others' messages.
	// Deleting a deleted message returns it unchanged.
	DeleteMessage(ctx context.Context, conversationID, seq, actor int64, byModerator bool, now time.Time) (Message, error)
	// SetMarks moves a member's delivered and read marks forward (a value of
	// 0 or below the current mark changes nothing). Values are clamped to
	// the conversation's last_seq, and read implies delivered. It returns the
	// member's marks after the change and whether they changed.
	// When a mark moves in a conversation of at most stepsUpTo members
	// (0: none), it also records the clock minute of at in which the mark
	// reached its new value, for MarkTimes.
	SetMarks(ctx context.Context, conversationID, userID, deliveredSeq, readSeq int64, at time.Time, stepsUpTo int) (Member, bool, error)
	// MarkTimes returns, for each current member of a conversation whose
	// delivered or read mark SetMarks recorded reaching seq or beyond, when
	// each first did (nil: not recorded), in no particular order: the start
	// of the minute it happened in, or sent (the message's time) if later.
	// Records are looked for from MarkTimesSkew before sent. A mark that
	// moved without a record (by the member's own send, or while the
	// conversation had more than stepsUpTo members) has no time.
	MarkTimes(ctx context.Context, conversationID, seq int64, sent time.Time) ([]MarkTime, error)
}

// MarkTime says when a member's marks first reached a message (see
// MessageStore.MarkTimes).
type MarkTime struct {
	UserID      int64
	DeliveredAt *time.Time
	ReadAt      *time.Time
}

// MarkTimesSkew is how far before a message's time MarkTimes looks for
// the minutes in which marks reached it: the clocks of the nodes that
// stored the message and the receipts may differ by this much.
const MarkTimesSkew = 5 * time.Minute

// StepTime is the time MarkTimes gives for a mark step recorded in minute
// (unix time / 60; ok false: none): the minute's start, or sent if later.
func StepTime(minute int64, ok bool, sent time.Time) *time.Time {
	if !ok {
		return nil
	}
	t := time.Unix(minute*60, 0).UTC()
	if sent.After(t) {
		t = sent.UTC()
	}
	return &t
}

// NotifyStore keeps what decides notifications besides the messages: the
// members a text mentions and each member's notification settings.
type NotifyStore interface {
	// MemberIDsByUsername returns the ids of the current members of a
	// conversation whose (normalized) usernames are among usernames, in no
	// particular order.
	MemberIDsByUsername(ctx context.Context, conversationID int64, usernames []string) ([]int64, error)
	// UpdateNotifySettings changes a member's notification settings and
	// returns them; ENOTFOUND if userID is not a member.
	UpdateNotifySettings(ctx context.Context, conversationID, userID int64, upd NotifyUpdate) (NotifySettings, error)
}

// NotifyUpdate holds the changes to a member's notification settings.
type NotifyUpdate struct {
	// Level is the new level; nil leaves it unchanged.
	Level *string
	// Mute sets MutedUntil (nil: not muted); false leaves it unchanged.
	Mute       bool
	MutedUntil *time.Time
}

// PushStore keeps Web Push state: the deployment's VAPID key, the users'
// subscriptions, the push decision's progress per member and conversation,
// and the pushes waiting to be sent (docs/protocol.md, "Who is notified").
//
// Every text message appended to a conversation whose notify_from is unset
// sets it to the message's time, in the append's own transaction (no other
// row is written on the send path). DuePushChecks hands such conversations
// to one node at a time; that node reads PushCheck, records its decisions
// with ClaimPushes (which queues the pending pushes) and FinishPushCheck.
// Senders take pending pushes with ClaimPendingPushes and finish each with
// one of the last four methods.
type PushStore interface {
	// VAPIDKey returns the stored key; ENOTFOUND if there is none.
	VAPIDKey(ctx context.Context) (VAPIDKey, error)
	// InitVAPIDKey stores k unless a key is stored already, and returns
	// the stored key: nodes starting together all end up with the same.
	InitVAPIDKey(ctx context.Context, k VAPIDKey) (VAPIDKey, error)
	// RotateVAPIDKey replaces the key with k and deletes every
	// subscription (browsers bind a subscription to the key it was made
	// with); it returns how many were deleted.
	RotateVAPIDKey(ctx context.Context, k VAPIDKey) (int, error)

	// AddPushSubscription stores sub for sub.UserID and sets its ID,
	// CreatedAt and LastUsed (to sub.LastUsed). A subscription with the
	// same endpoint is replaced (its keys, label and owner updated), so a
	// browser that registers again keeps one. A user keeps at most max:
	// beyond, the subscription used least recently is deleted.
	AddPushSubscription(ctx context.Context, sub *PushSubscription, max int) error
	// PushSubscriptions lists a user's subscriptions, oldest first.
	PushSubscriptions(ctx context.Context, userID int64) ([]PushSubscription, error)
	// DeletePushSubscription deletes one of the user's subscriptions and
	// its pending pushes; ENOTFOUND if the user has no such subscription.
	DeletePushSubscription(ctx context.Context, userID, id int64) error
	// ExpirePushSubscriptions deletes the subscriptions last used before
	// before, with their pending pushes, and returns how many.
	ExpirePushSubscriptions(ctx context.Context, before time.Time) (int, error)

	// DuePushChecks takes up to limit conversations whose notify_from is
	// at or before due, oldest first, moves their notify_from to until
	// (so that no other node takes them until then) and returns their
	// ids.
	DuePushChecks(ctx context.Context, due, until time.Time, limit int) ([]int64, error)
	// PushCheck reads a conversation for the push decision: its members
	// who have a push subscription and whose delivered and pushed marks
	// are both below last_seq (never those whose own message is the
	// newest), and the newest text messages after the lowest of their
	// marks, at most maxMessages, in seq order. ENOTFOUND if the
	// conversation does not exist.
	PushCheck(ctx context.Context, conversationID int64, maxMessages int) (PushCheck, error)
	// ClaimPushes applies the claims in one transaction and reports which
	// took effect (a claim whose member's marks moved since the check
	// changes nothing). Each claim that took effect and has a Push queues
	// one pending push per subscription of the member.
	ClaimPushes(ctx context.Context, claims []PushClaim) ([]bool, error)
	// FinishPushCheck ends a check that covered the conversation up to
	// seq checkedSeq: notify_from becomes next (nil: unset) if last_seq is
	// still checkedSeq, else the earlier of next and now, so that the
	// messages that arrived during the check get their turn.
	FinishPushCheck(ctx context.Context, conversationID, checkedSeq int64, next *time.Time, now time.Time) error

	// QueuePush queues n for every subscription of userID (a call rings,
	// say) and returns how many pushes it queued.
	QueuePush(ctx context.Context, userID int64, n PushNotice) (int, error)
	// ClaimPendingPushes takes up to limit pending pushes due at now whose
	// host is not in skipHosts and which no node holds, oldest due first,
	// and holds them until until.
	ClaimPendingPushes(ctx context.Context, now, until time.Time, skipHosts []string, limit int) ([]PendingPush, error)
	// PushSent deletes a pending push the push service accepted and marks
	// its subscription used at at.
	PushSent(ctx context.Context, id int64, at time.Time) error
	// RetryPush releases a pending push to be sent again at due, counting
	// the attempt if countAttempt.
	RetryPush(ctx context.Context, id int64, due time.Time, countAttempt bool) error
	// DropPush deletes a pending push that will not be sent.
	DropPush(ctx context.Context, id int64) error
	// PushGone deletes a subscription the push service no longer knows
	// (404, 410) and its pending pushes.
	PushGone(ctx context.Context, subscriptionID int64) error
}
