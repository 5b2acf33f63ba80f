package parley

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultStoreTimeout bounds each database call of a node (--db-timeout).
const DefaultStoreTimeout = 3 * time.Second

// WithTimeout returns s with a deadline on every call: each runs with a
// context that ends after d (or sooner, with the caller's). A call that
// the deadline ends fails with ErrUnavailable (wrapping the cause, for
// logs), whatever the driver made of it, so that a database that stops
// answering — a hung server, a blackholed network — gives clients a 503
// `unavailable` in d instead of a request that hangs for the whole outage.
// A call the caller canceled returns the caller's error. d <= 0 returns s.
//
// The stores honour the deadline: PostgreSQL's driver closes a connection
// whose query outlives it (so the pool never hands out a connection stuck
// in a blackhole), and both appenders stop waiting for a commit at it. An
// append whose deadline passes may still commit: the caller answers
// unavailable, and the client's resend with the same client_msg_id finds
// the original.
//
// Every method of Store is wrapped here; a method added to Store must be
// added below too (the compiler insists).
func WithTimeout(s Store, d time.Duration) Store {
	if d <= 0 {
		return s
	}
	return &timedStore{s: s, d: d}
}

// Unwrap returns the store that WithTimeout wrapped, or s itself.
func Unwrap(s Store) Store {
	if t, ok := s.(*timedStore); ok {
		return t.s
	}
	return s
}

type timedStore struct {
	s Store
	d time.Duration
}

var _ Store = (*timedStore)(nil)

// bounded runs f with the deadline and maps what the deadline caused.
func bounded[T any](t *timedStore, ctx context.Context, f func(ctx context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	v, err := f(cctx)
	return v, t.mapErr(ctx, cctx, err)
}

func bounded0(t *timedStore, ctx context.Context, f func(ctx context.Context) error) error {
	_, err := bounded(t, ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// mapErr turns the failure of a call whose context ended by a deadline
// (its own or the caller's) into ErrUnavailable. Domain errors pass
// unchanged; so does everything when the caller canceled.
func (t *timedStore) mapErr(parent, ctx context.Context, err error) error {
	if ErrorCode(err) != EINTERNAL || !errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(parent.Err(), context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: database call exceeded its %v deadline: %w", ErrUnavailable, t.d, err)
}

func (t *timedStore) Close() error { return t.s.Close() }

// HeadStore

func (t *timedStore) ConversationHeads(ctx context.Context, ids []int64) ([]ConvHead, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]ConvHead, error) { return t.s.ConversationHeads(ctx, ids) })
}

func (t *timedStore) UserConversationHeads(ctx context.Context, userID int64) ([]ConvHead, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]ConvHead, error) { return t.s.UserConversationHeads(ctx, userID) })
}

// SearchStore

func (t *timedStore) SearchMessages(ctx context.Context, q SearchQuery) (SearchPage, error) {
	return bounded(t, ctx, func(ctx context.Context) (SearchPage, error) { return t.s.SearchMessages(ctx, q) })
}

// ReactionStore

func (t *timedStore) React(ctx context.Context, conversationID, seq, userID int64, emoji string, on bool, now time.Time) (Message, bool, error) {
	var changed bool
	m, err := bounded(t, ctx, func(ctx context.Context) (Message, error) {
		m, c, err := t.s.React(ctx, conversationID, seq, userID, emoji, on, now)
		changed = c
		return m, err
	})
	return m, changed, err
}

// PinStore

func (t *timedStore) Pin(ctx context.Context, conversationID, seq, userID int64, on bool, now time.Time) ([]Pin, bool, error) {
	var changed bool
	pins, err := bounded(t, ctx, func(ctx context.Context) ([]Pin, error) {
		p, c, err := t.s.Pin(ctx, conversationID, seq, userID, on, now)
		changed = c
		return p, err
	})
	return pins, changed, err
}

func (t *timedStore) Pins(ctx context.Context, conversationID, userID int64) ([]Pin, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Pin, error) { return t.s.Pins(ctx, conversationID, userID) })
}

// ChatListStore

func (t *timedStore) SetChatList(ctx context.Context, conversationID, userID int64, upd ChatListUpdate, now time.Time) (ChatListEntry, error) {
	return bounded(t, ctx, func(ctx context.Context) (ChatListEntry, error) {
		return t.s.SetChatList(ctx, conversationID, userID, upd, now)
	})
}

func (t *timedStore) ChatList(ctx context.Context, userID int64) ([]ChatListEntry, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]ChatListEntry, error) { return t.s.ChatList(ctx, userID) })
}

// HealthStore

func (t *timedStore) Ping(ctx context.Context) error       { return bounded0(t, ctx, t.s.Ping) }
func (t *timedStore) CheckWrite(ctx context.Context) error { return bounded0(t, ctx, t.s.CheckWrite) }

// UserStore

func (t *timedStore) CreateUser(ctx context.Context, u *User, passwordHash string) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.CreateUser(ctx, u, passwordHash) })
}

func (t *timedStore) User(ctx context.Context, id int64) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) { return t.s.User(ctx, id) })
}

func (t *timedStore) UserByUsername(ctx context.Context, username string) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) { return t.s.UserByUsername(ctx, username) })
}

func (t *timedStore) UserByLogin(ctx context.Context, login string) (User, string, error) {
	var hash string
	u, err := bounded(t, ctx, func(ctx context.Context) (u User, err error) {
		u, hash, err = t.s.UserByLogin(ctx, login)
		return u, err
	})
	return u, hash, err
}

func (t *timedStore) SearchUsers(ctx context.Context, prefix string, limit int) ([]User, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]User, error) { return t.s.SearchUsers(ctx, prefix, limit) })
}

func (t *timedStore) UpdateUser(ctx context.Context, id int64, upd UserUpdate) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) { return t.s.UpdateUser(ctx, id, upd) })
}

// PresenceStore

func (t *timedStore) SetLastSeen(ctx context.Context, id int64, at time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.SetLastSeen(ctx, id, at) })
}

func (t *timedStore) LastSeen(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	return bounded(t, ctx, func(ctx context.Context) (map[int64]time.Time, error) { return t.s.LastSeen(ctx, ids) })
}

// UserStore (continued)

func (t *timedStore) AddLoginFailure(ctx context.Context, keys []string, at time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.AddLoginFailure(ctx, keys, at) })
}

func (t *timedStore) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.LoginFailures(ctx, key, since) })
}

func (t *timedStore) ClearLoginFailures(ctx context.Context, key string) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.ClearLoginFailures(ctx, key) })
}

// PruneStore

func (t *timedStore) PruneAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.PruneAttempts(ctx, before, limit) })
}

func (t *timedStore) PruneSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.PruneSessions(ctx, before, limit) })
}

// AttemptStore

func (t *timedStore) ReserveAttempt(ctx context.Context, at time.Time, limits []AttemptLimit) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.ReserveAttempt(ctx, at, limits) })
}

func (t *timedStore) ForgetAttempt(ctx context.Context, keys []string, at time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.ForgetAttempt(ctx, keys, at) })
}

// BanStore

func (t *timedStore) Ban(ctx context.Context, conversationID, userID int64) (Ban, error) {
	return bounded(t, ctx, func(ctx context.Context) (Ban, error) { return t.s.Ban(ctx, conversationID, userID) })
}

func (t *timedStore) AddMemberBy(ctx context.Context, conversationID, userID, actor int64, maxMembers int, now time.Time) (Member, bool, Message, error) {
	var added bool
	r, err := bounded(t, ctx, func(ctx context.Context) (r withMessage[Member], err error) {
		r.v, added, r.m, err = t.s.AddMemberBy(ctx, conversationID, userID, actor, maxMembers, now)
		return r, err
	})
	return r.v, added, r.m, err
}

// SessionStore

func (t *timedStore) CreateSession(ctx context.Context, s *Session) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.CreateSession(ctx, s) })
}

func (t *timedStore) SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (Session, error) {
	return bounded(t, ctx, func(ctx context.Context) (Session, error) { return t.s.SessionByTokenHash(ctx, hash, now) })
}

func (t *timedStore) TouchSession(ctx context.Context, id int64, lastUsed, expiresAt time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.TouchSession(ctx, id, lastUsed, expiresAt) })
}

func (t *timedStore) Sessions(ctx context.Context, userID int64, now time.Time) ([]Session, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Session, error) { return t.s.Sessions(ctx, userID, now) })
}

func (t *timedStore) DeleteSession(ctx context.Context, userID, sessionID int64) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.DeleteSession(ctx, userID, sessionID) })
}

func (t *timedStore) DeleteOtherSessions(ctx context.Context, userID, keepID int64) ([]int64, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]int64, error) { return t.s.DeleteOtherSessions(ctx, userID, keepID) })
}

// ConversationStore

// withMessage is the result of a call that also returns a system message.
type withMessage[T any] struct {
	v T
	m Message
}

func (t *timedStore) CreateGroup(ctx context.Context, name, code string, owner int64, now time.Time) (Conversation, Message, error) {
	r, err := bounded(t, ctx, func(ctx context.Context) (r withMessage[Conversation], err error) {
		r.v, r.m, err = t.s.CreateGroup(ctx, name, code, owner, now)
		return r, err
	})
	return r.v, r.m, err
}

func (t *timedStore) Direct(ctx context.Context, a, b int64, now time.Time) (Conversation, bool, error) {
	var created bool
	c, err := bounded(t, ctx, func(ctx context.Context) (c Conversation, err error) {
		c, created, err = t.s.Direct(ctx, a, b, now)
		return c, err
	})
	return c, created, err
}

func (t *timedStore) Conversation(ctx context.Context, id int64) (Conversation, error) {
	return bounded(t, ctx, func(ctx context.Context) (Conversation, error) { return t.s.Conversation(ctx, id) })
}

func (t *timedStore) GroupByCode(ctx context.Context, code string) (Conversation, error) {
	return bounded(t, ctx, func(ctx context.Context) (Conversation, error) { return t.s.GroupByCode(ctx, code) })
}

func (t *timedStore) Member(ctx context.Context, conversationID, userID int64) (Member, error) {
	return bounded(t, ctx, func(ctx context.Context) (Member, error) { return t.s.Member(ctx, conversationID, userID) })
}

func (t *timedStore) Members(ctx context.Context, conversationID int64) ([]Member, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Member, error) { return t.s.Members(ctx, conversationID) })
}

func (t *timedStore) ConversationIDs(ctx context.Context, userID int64) ([]int64, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]int64, error) { return t.s.ConversationIDs(ctx, userID) })
}

func (t *timedStore) Conversations(ctx context.Context, userID int64) ([]ConversationSummary, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]ConversationSummary, error) { return t.s.Conversations(ctx, userID) })
}

func (t *timedStore) Contacts(ctx context.Context, userID int64, maxGroup int) ([]int64, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]int64, error) { return t.s.Contacts(ctx, userID, maxGroup) })
}

func (t *timedStore) AddMember(ctx context.Context, conversationID, userID int64, maxMembers int, now time.Time) (Member, bool, Message, error) {
	var added bool
	r, err := bounded(t, ctx, func(ctx context.Context) (r withMessage[Member], err error) {
		r.v, added, r.m, err = t.s.AddMember(ctx, conversationID, userID, maxMembers, now)
		return r, err
	})
	return r.v, added, r.m, err
}

func (t *timedStore) RemoveMember(ctx context.Context, conversationID, userID, actor int64, now time.Time) (Message, error) {
	return bounded(t, ctx, func(ctx context.Context) (Message, error) {
		return t.s.RemoveMember(ctx, conversationID, userID, actor, now)
	})
}

func (t *timedStore) SetRole(ctx context.Context, conversationID, userID int64, role string, actor int64, now time.Time) (Member, Message, error) {
	r, err := bounded(t, ctx, func(ctx context.Context) (r withMessage[Member], err error) {
		r.v, r.m, err = t.s.SetRole(ctx, conversationID, userID, role, actor, now)
		return r, err
	})
	return r.v, r.m, err
}

func (t *timedStore) RenameGroup(ctx context.Context, conversationID int64, name string, actor int64, now time.Time) (Conversation, Message, error) {
	r, err := bounded(t, ctx, func(ctx context.Context) (r withMessage[Conversation], err error) {
		r.v, r.m, err = t.s.RenameGroup(ctx, conversationID, name, actor, now)
		return r, err
	})
	return r.v, r.m, err
}

func (t *timedStore) SetCode(ctx context.Context, conversationID int64, code string, actor int64, now time.Time) (Conversation, Message, error) {
	r, err := bounded(t, ctx, func(ctx context.Context) (r withMessage[Conversation], err error) {
		r.v, r.m, err = t.s.SetCode(ctx, conversationID, code, actor, now)
		return r, err
	})
	return r.v, r.m, err
}

// MessageStore

func (t *timedStore) AppendMessage(ctx context.Context, m NewMessage) (Message, bool, error) {
	var created bool
	msg, err := bounded(t, ctx, func(ctx context.Context) (msg Message, err error) {
		msg, created, err = t.s.AppendMessage(ctx, m)
		return msg, err
	})
	return msg, created, err
}

func (t *timedStore) Messages(ctx context.Context, conversationID int64, q MessageQuery) ([]Message, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Message, error) { return t.s.Messages(ctx, conversationID, q) })
}

func (t *timedStore) Message(ctx context.Context, conversationID, seq int64) (Message, error) {
	return bounded(t, ctx, func(ctx context.Context) (Message, error) { return t.s.Message(ctx, conversationID, seq) })
}

func (t *timedStore) Changes(ctx context.Context, conversationID, afterMod, maxSeq int64, limit int) ([]Message, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Message, error) {
		return t.s.Changes(ctx, conversationID, afterMod, maxSeq, limit)
	})
}

func (t *timedStore) EditMessage(ctx context.Context, conversationID, seq, editor int64, text string, mentions []int64, now time.Time) (Message, error) {
	return bounded(t, ctx, func(ctx context.Context) (Message, error) {
		return t.s.EditMessage(ctx, conversationID, seq, editor, text, mentions, now)
	})
}

func (t *timedStore) DeleteMessage(ctx context.Context, conversationID, seq, actor int64, byModerator bool, now time.Time) (Message, error) {
	return bounded(t, ctx, func(ctx context.Context) (Message, error) {
		return t.s.DeleteMessage(ctx, conversationID, seq, actor, byModerator, now)
	})
}

func (t *timedStore) SetMarks(ctx context.Context, conversationID, userID, deliveredSeq, readSeq int64, at time.Time, stepsUpTo int) (Member, bool, error) {
	var changed bool
	m, err := bounded(t, ctx, func(ctx context.Context) (m Member, err error) {
		m, changed, err = t.s.SetMarks(ctx, conversationID, userID, deliveredSeq, readSeq, at, stepsUpTo)
		return m, err
	})
	return m, changed, err
}

func (t *timedStore) MarkTimes(ctx context.Context, conversationID, seq int64, sent time.Time) ([]MarkTime, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]MarkTime, error) { return t.s.MarkTimes(ctx, conversationID, seq, sent) })
}

// NotifyStore

func (t *timedStore) MemberIDsByUsername(ctx context.Context, conversationID int64, usernames []string) ([]int64, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]int64, error) {
		return t.s.MemberIDsByUsername(ctx, conversationID, usernames)
	})
}

func (t *timedStore) UpdateNotifySettings(ctx context.Context, conversationID, userID int64, upd NotifyUpdate) (NotifySettings, error) {
	return bounded(t, ctx, func(ctx context.Context) (NotifySettings, error) {
		return t.s.UpdateNotifySettings(ctx, conversationID, userID, upd)
	})
}

// PushStore

func (t *timedStore) VAPIDKey(ctx context.Context) (VAPIDKey, error) {
	return bounded(t, ctx, t.s.VAPIDKey)
}

func (t *timedStore) InitVAPIDKey(ctx context.Context, k VAPIDKey) (VAPIDKey, error) {
	return bounded(t, ctx, func(ctx context.Context) (VAPIDKey, error) { return t.s.InitVAPIDKey(ctx, k) })
}

func (t *timedStore) RotateVAPIDKey(ctx context.Context, k VAPIDKey) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.RotateVAPIDKey(ctx, k) })
}

func (t *timedStore) AddPushSubscription(ctx context.Context, sub *PushSubscription, max int) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.AddPushSubscription(ctx, sub, max) })
}

func (t *timedStore) PushSubscriptions(ctx context.Context, userID int64) ([]PushSubscription, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]PushSubscription, error) { return t.s.PushSubscriptions(ctx, userID) })
}

func (t *timedStore) DeletePushSubscription(ctx context.Context, userID, id int64) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.DeletePushSubscription(ctx, userID, id) })
}

func (t *timedStore) ExpirePushSubscriptions(ctx context.Context, before time.Time) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.ExpirePushSubscriptions(ctx, before) })
}

func (t *timedStore) DuePushChecks(ctx context.Context, due, until time.Time, limit int) ([]int64, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]int64, error) { return t.s.DuePushChecks(ctx, due, until, limit) })
}

func (t *timedStore) PushCheck(ctx context.Context, conversationID int64, maxMessages int) (PushCheck, error) {
	return bounded(t, ctx, func(ctx context.Context) (PushCheck, error) {
		return t.s.PushCheck(ctx, conversationID, maxMessages)
	})
}

func (t *timedStore) ClaimPushes(ctx context.Context, claims []PushClaim) ([]bool, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]bool, error) { return t.s.ClaimPushes(ctx, claims) })
}

func (t *timedStore) FinishPushCheck(ctx context.Context, conversationID, checkedSeq int64, next *time.Time, now time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error {
		return t.s.FinishPushCheck(ctx, conversationID, checkedSeq, next, now)
	})
}

func (t *timedStore) QueuePush(ctx context.Context, userID int64, n PushNotice) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.QueuePush(ctx, userID, n) })
}

func (t *timedStore) ClaimPendingPushes(ctx context.Context, now, until time.Time, skipHosts []string, limit int) ([]PendingPush, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]PendingPush, error) {
		return t.s.ClaimPendingPushes(ctx, now, until, skipHosts, limit)
	})
}

func (t *timedStore) PushSent(ctx context.Context, id int64, at time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.PushSent(ctx, id, at) })
}

func (t *timedStore) RetryPush(ctx context.Context, id int64, due time.Time, countAttempt bool) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.RetryPush(ctx, id, due, countAttempt) })
}

func (t *timedStore) DropPush(ctx context.Context, id int64) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.DropPush(ctx, id) })
}

func (t *timedStore) PushGone(ctx context.Context, subscriptionID int64) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.PushGone(ctx, subscriptionID) })
}

// UploadStore

func (t *timedStore) CreateUpload(ctx context.Context, u *Upload, quota int64, now time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.CreateUpload(ctx, u, quota, now) })
}

func (t *timedStore) CopyAttachments(ctx context.Context, conversationID, seq, ownerID, quota int64, now time.Time) ([]Upload, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Upload, error) {
		return t.s.CopyAttachments(ctx, conversationID, seq, ownerID, quota, now)
	})
}

func (t *timedStore) Upload(ctx context.Context, id int64) (Upload, error) {
	return bounded(t, ctx, func(ctx context.Context) (Upload, error) { return t.s.Upload(ctx, id) })
}

func (t *timedStore) UploadUsage(ctx context.Context, ownerID int64) (int64, error) {
	return bounded(t, ctx, func(ctx context.Context) (int64, error) { return t.s.UploadUsage(ctx, ownerID) })
}

func (t *timedStore) SetThumbnail(ctx context.Context, id int64, key string, size int64, now time.Time) (Upload, error) {
	return bounded(t, ctx, func(ctx context.Context) (Upload, error) { return t.s.SetThumbnail(ctx, id, key, size, now) })
}

func (t *timedStore) DeleteUpload(ctx context.Context, ownerID, id int64) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.DeleteUpload(ctx, ownerID, id) })
}

func (t *timedStore) DeleteOrphanUploads(ctx context.Context, before time.Time, limit int) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.DeleteOrphanUploads(ctx, before, limit) })
}

func (t *timedStore) SetAvatar(ctx context.Context, userID int64, key string, size int64, now time.Time) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) { return t.s.SetAvatar(ctx, userID, key, size, now) })
}

func (t *timedStore) SetGroupPhoto(ctx context.Context, conversationID int64, key string, size int64, now time.Time) (Conversation, error) {
	return bounded(t, ctx, func(ctx context.Context) (Conversation, error) {
		return t.s.SetGroupPhoto(ctx, conversationID, key, size, now)
	})
}

func (t *timedStore) LeaseDoomedBlobs(ctx context.Context, now, until time.Time, limit int) ([]string, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]string, error) { return t.s.LeaseDoomedBlobs(ctx, now, until, limit) })
}

func (t *timedStore) ForgetBlobs(ctx context.Context, keys []string, until time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.ForgetBlobs(ctx, keys, until) })
}

// AccountStore

func (t *timedStore) SetPassword(ctx context.Context, userID int64, passwordHash string, keepSessionID int64) ([]int64, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]int64, error) {
		return t.s.SetPassword(ctx, userID, passwordHash, keepSessionID)
	})
}

func (t *timedStore) DeleteUser(ctx context.Context, userID int64, retireUntil, now time.Time) ([]Message, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Message, error) { return t.s.DeleteUser(ctx, userID, retireUntil, now) })
}

func (t *timedStore) Block(ctx context.Context, blockerID, blockedID int64, now time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.Block(ctx, blockerID, blockedID, now) })
}

func (t *timedStore) Unblock(ctx context.Context, blockerID, blockedID int64) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.Unblock(ctx, blockerID, blockedID) })
}

func (t *timedStore) Blocks(ctx context.Context, blockerID int64) ([]User, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]User, error) { return t.s.Blocks(ctx, blockerID) })
}

func (t *timedStore) Blocked(ctx context.Context, blockerID, blockedID int64) (bool, error) {
	return bounded(t, ctx, func(ctx context.Context) (bool, error) { return t.s.Blocked(ctx, blockerID, blockedID) })
}

// AdminStore

func (t *timedStore) CreateInvitedUser(ctx context.Context, u *User, passwordHash, code string, now time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.CreateInvitedUser(ctx, u, passwordHash, code, now) })
}

func (t *timedStore) ListUsers(ctx context.Context, q UserQuery) ([]User, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]User, error) { return t.s.ListUsers(ctx, q) })
}

func (t *timedStore) SetUserRole(ctx context.Context, id int64, role string) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) { return t.s.SetUserRole(ctx, id, role) })
}

func (t *timedStore) SetUserDisabled(ctx context.Context, id int64, at *time.Time) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) { return t.s.SetUserDisabled(ctx, id, at) })
}

func (t *timedStore) CreatePasswordReset(ctx context.Context, userID int64, tokenHash []byte, now, expiresAt time.Time) error {
	return bounded0(t, ctx, func(ctx context.Context) error {
		return t.s.CreatePasswordReset(ctx, userID, tokenHash, now, expiresAt)
	})
}

func (t *timedStore) UsePasswordReset(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (User, error) {
	return bounded(t, ctx, func(ctx context.Context) (User, error) {
		return t.s.UsePasswordReset(ctx, tokenHash, passwordHash, now)
	})
}

func (t *timedStore) CreateInvitation(ctx context.Context, inv *Invitation) error {
	return bounded0(t, ctx, func(ctx context.Context) error { return t.s.CreateInvitation(ctx, inv) })
}

func (t *timedStore) Invitations(ctx context.Context, createdBy int64, limit int) ([]Invitation, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Invitation, error) { return t.s.Invitations(ctx, createdBy, limit) })
}

func (t *timedStore) Invitation(ctx context.Context, code string) (Invitation, error) {
	return bounded(t, ctx, func(ctx context.Context) (Invitation, error) { return t.s.Invitation(ctx, code) })
}

func (t *timedStore) RevokeInvitation(ctx context.Context, id, createdBy int64, now time.Time) (Invitation, error) {
	return bounded(t, ctx, func(ctx context.Context) (Invitation, error) { return t.s.RevokeInvitation(ctx, id, createdBy, now) })
}

func (t *timedStore) InstanceStats(ctx context.Context) (InstanceStats, error) {
	return bounded(t, ctx, t.s.InstanceStats)
}

// ReportStore

func (t *timedStore) CreateReport(ctx context.Context, r *Report) (bool, error) {
	return bounded(t, ctx, func(ctx context.Context) (bool, error) { return t.s.CreateReport(ctx, r) })
}

func (t *timedStore) Reports(ctx context.Context, open bool, limit int) ([]Report, error) {
	return bounded(t, ctx, func(ctx context.Context) ([]Report, error) { return t.s.Reports(ctx, open, limit) })
}

func (t *timedStore) Report(ctx context.Context, id int64) (Report, error) {
	return bounded(t, ctx, func(ctx context.Context) (Report, error) { return t.s.Report(ctx, id) })
}

func (t *timedStore) ResolveReport(ctx context.Context, id, by int64, action string, now time.Time) (Report, error) {
	return bounded(t, ctx, func(ctx context.Context) (Report, error) { return t.s.ResolveReport(ctx, id, by, action, now) })
}

func (t *timedStore) PruneRetiredUsernames(ctx context.Context, before time.Time, limit int) (int, error) {
	return bounded(t, ctx, func(ctx context.Context) (int, error) { return t.s.PruneRetiredUsernames(ctx, before, limit) })
}
