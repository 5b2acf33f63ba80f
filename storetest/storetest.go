// Package storetest is the conformance suite every parley.Store
// implementation must pass, and a few builders other test packages may use
// to set up users, groups and messages.
//
// An implementation's test calls Run with a factory:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) parley.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks the contract written in the doc comments of parley.Store,
// plus these decisions where the comments leave room:
//
//   - Lookups of something that does not exist give ENOTFOUND (UserByLogin
//     included; the caller turns that into EBADCREDENTIALS).
//   - An empty email means "no email": any number of users may have none, and
//     UserByLogin("") finds nobody.
//   - Every returned message has Sender filled when SenderID is not 0; system
//     messages written by membership changes have the actor as sender.
//   - A system message counts as its sender's own message, so the sender's
//     marks move to it (a group's creator starts with nothing unread).
//   - Direct creates no system message: a new direct conversation has
//     LastSeq 0.
//   - Only text messages need a member as sender; system messages may be
//     appended for any existing conversation.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley"
)

// Run runs the suite. Each subtest gets a fresh, empty store from newStore,
// which must also arrange for the store to be closed (t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s parley.Store)
	}{
		{"Ping", testPing},
		{"CheckWrite", testCheckWrite},

		{"User/Create", testCreateUser},
		{"User/UniqueWithoutCase", testUserUnique},
		{"User/NoEmail", testUserNoEmail},
		{"User/Login", testUserByLogin},
		{"User/Search", testSearchUsers},
		{"User/Update", testUpdateUser},
		{"User/LastSeen", testLastSeen},
		{"User/LoginFailures", testLoginFailures},
		{"Attempt/Reserve", testReserveAttempt},
		{"Attempt/ReserveConcurrent", testReserveAttemptConcurrent},

		{"Session/CreateAndLookup", testSessionLookup},
		{"Session/Touch", testSessionTouch},
		{"Session/List", testSessionList},
		{"Session/Delete", testSessionDelete},
		{"Session/DeleteOthers", testSessionDeleteOthers},
		{"Prune/Attempts", testPruneAttempts},
		{"Prune/Sessions", testPruneSessions},
		{"Prune/Concurrent", testPruneConcurrent},

		{"Group/Create", testCreateGroup},
		{"Group/CodeUnique", testGroupCodeUnique},
		{"Group/AddMember", testAddMember},
		{"Group/Full", testGroupFull},
		{"Group/RemoveMember", testRemoveMember},
		{"Group/Bans", testBans},
		{"Group/OwnerLeaves", testOwnerLeaves},
		{"Group/SetRole", testSetRole},
		{"Group/Rename", testRenameGroup},
		{"Group/SetCode", testSetCode},

		{"Group/UnknownUser", testUnknownUser},

		{"Direct/OnePerPair", testDirect},
		{"Direct/Concurrent", testDirectConcurrent},

		{"Conversations/List", testConversations},
		{"Conversations/IDs", testConversationIDs},
		{"Conversations/Heads", testHeads},
		{"Conversations/HeadsMany", testHeadsMany},
		{"Contacts", testContacts},

		{"Message/Append", testAppend},
		{"Message/AppendNotMember", testAppendNotMember},
		{"Message/Idempotent", testAppendIdempotent},
		{"Message/NotAccepting", testAppendNotAccepting},
		{"Message/FollowsChanges", testAppendFollowsChanges},
		{"Message/System", testAppendSystem},
		{"Message/Page", testMessagesPage},
		{"Message/Edit", testEditMessage},
		{"Message/Delete", testDeleteMessage},
		{"Message/Changes", testChanges},
		{"Search/Text", testSearchText},
		{"Search/Members", testSearchMembers},
		{"Search/Changes", testSearchChanges},
		{"Search/Filters", testSearchFilters},
		{"Search/Paging", testSearchPaging},

		{"Marks/Forward", testSetMarks},
		{"Marks/SenderOwnMessage", testSenderMarks},
		{"Marks/Times", testMarkTimes},

		{"Upload/Create", testCreateUpload},
		{"Upload/Quota", testUploadQuota},
		{"Upload/Thumbnail", testThumbnail},
		{"Blob/References", testBlobRefs},
		{"Blob/Busy", testBlobBusy},
		{"Attach/Append", testAttach},
		{"Attach/Refused", testAttachRefused},
		{"Attach/Delete", testAttachDelete},
		{"Attach/Concurrent", testAttachConcurrent},
		{"Forward/Mark", testForwardMark},
		{"Forward/CopyAttachments", testCopyAttachments},
		{"Forward/CopyRacesDelete", testCopyAttachmentsRacesDelete},
		{"Avatar/User", testAvatar},
		{"Avatar/Group", testGroupPhoto},

		{"Concurrent/Appends", testConcurrentAppends},
		{"Concurrent/SameClientMsgID", testConcurrentSameClientMsgID},
		{"Concurrent/Marks", testConcurrentMarks},
	}
	tests = append(tests, pushTests()...)
	tests = append(tests, convoTests()...)
	tests = append(tests, pinTests()...)
	tests = append(tests, accountTests()...)
	tests = append(tests, adminTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func testPing(t *testing.T, s parley.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// A working store can write, again and again, with other writes around.
func testCheckWrite(t *testing.T, s parley.Store) {
	ctx := context.Background()
	for i := range 3 {
		if err := s.CheckWrite(ctx); err != nil {
			t.Fatalf("CheckWrite %d: %v", i, err)
		}
		MustUser(t, s, fmt.Sprintf("probe%d", next()))
	}
}

// Builders. They fail the test on any error.

var seq atomic.Int64

// next returns a number unique within the test binary.
func next() int64 { return seq.Add(1) }

// MustUser creates a user with the given (normalized) username, email
// username@example.com, display name the username with an upper-case first
// letter, accepting messages, and password hash "hash-"+username.
func MustUser(t testing.TB, s parley.Store, username string) parley.User {
	t.Helper()
	u := parley.User{
		Username:          username,
		Email:             username + "@example.com",
		DisplayName:       strings.ToUpper(username[:1]) + username[1:],
		AcceptingMessages: true,
	}
	if err := s.CreateUser(context.Background(), &u, "hash-"+username); err != nil {
		t.Fatalf("CreateUser(%q): %v", username, err)
	}
	return u
}

// MustGroup creates a group named name with a fresh join code, owned by
// owner, adds members in order, and returns the group as stored afterwards.
func MustGroup(t testing.TB, s parley.Store, name string, owner parley.User, members ...parley.User) parley.Conversation {
	t.Helper()
	ctx := context.Background()
	c, _, err := s.CreateGroup(ctx, name, fmt.Sprintf("code%d", next()), owner.ID, time.Now())
	if err != nil {
		t.Fatalf("CreateGroup(%q): %v", name, err)
	}
	for _, m := range members {
		if _, _, _, err := s.AddMember(ctx, c.ID, m.ID, parley.DefaultMaxMembers, time.Now()); err != nil {
			t.Fatalf("AddMember(%q, %q): %v", name, m.Username, err)
		}
	}
	if c, err = s.Conversation(ctx, c.ID); err != nil {
		t.Fatalf("Conversation(%d): %v", c.ID, err)
	}
	return c
}

// MustDirect returns the direct conversation of a and b, creating it if
// needed.
func MustDirect(t testing.TB, s parley.Store, a, b parley.User) parley.Conversation {
	t.Helper()
	c, _, err := s.Direct(context.Background(), a.ID, b.ID, time.Now())
	if err != nil {
		t.Fatalf("Direct(%q, %q): %v", a.Username, b.Username, err)
	}
	return c
}

// MustSend appends a text message from sender with a fresh client_msg_id,
// created now, and returns it.
func MustSend(t testing.TB, s parley.Store, conversationID int64, sender parley.User, text string) parley.Message {
	t.Helper()
	return MustSendAt(t, s, conversationID, sender, text, time.Now())
}

// MustSendAt is MustSend with a given creation time.
func MustSendAt(t testing.TB, s parley.Store, conversationID int64, sender parley.User, text string, at time.Time) parley.Message {
	t.Helper()
	m, created, err := s.AppendMessage(context.Background(), parley.NewMessage{
		ConversationID: conversationID,
		SenderID:       sender.ID,
		ClientMsgID:    fmt.Sprintf("c%d", next()),
		Kind:           parley.MessageText,
		Text:           text,
		CreatedAt:      at,
	})
	if err != nil {
		t.Fatalf("AppendMessage(%d, %q): %v", conversationID, sender.Username, err)
	}
	if !created {
		t.Fatalf("AppendMessage(%d, %q) with a fresh client_msg_id: created = false", conversationID, sender.Username)
	}
	return m
}

// Assertions.

// t0 has nanoseconds and a zone other than UTC, so the suite sees whether
// stores return times in UTC truncated to microseconds.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))

// at returns t0 plus i minutes.
func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// norm is t as a store must return it.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normp(t time.Time) *time.Time { t = norm(t); return &t }

// wantCode fails unless err has the given parley error code ("" for nil).
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// ok fails on a non-nil error.
func ok(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// same fails unless got and want have the same JSON encoding. Times encode
// with their zone, so a non-UTC or untruncated time is a difference.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// sameTime fails unless got is want as a store must return it.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if w := norm(want); !got.Equal(w) || got.Location() != time.UTC {
		t.Fatalf("%s = %v, want %v", what, got, w)
	}
}

// ref is the UserRef of u.
func ref(u parley.User) *parley.UserRef {
	return &parley.UserRef{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}
}

func seqs(ms []parley.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func ids(us []parley.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}

func mustConversation(t *testing.T, s parley.Store, id int64) parley.Conversation {
	t.Helper()
	c, err := s.Conversation(context.Background(), id)
	ok(t, err, "Conversation")
	return c
}

func mustMember(t *testing.T, s parley.Store, conversationID, userID int64) parley.Member {
	t.Helper()
	m, err := s.Member(context.Background(), conversationID, userID)
	ok(t, err, "Member")
	return m
}
