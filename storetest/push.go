package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
)

// The suite's part for notifications: mentions, notification settings and
// Web Push (parley.NotifyStore and parley.PushStore).

func pushTests() []struct {
	name string
	fn   func(t *testing.T, s parley.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s parley.Store)
	}{
		{"Mentions/Stored", testMentionsStored},
		{"Mentions/Unread", testMentionsUnread},
		{"Mentions/MemberIDsByUsername", testMemberIDsByUsername},
		{"Notify/Settings", testNotifySettings},
		{"Notify/HideText", testHideNotificationText},
		{"Push/VAPIDKey", testVAPIDKey},
		{"Push/Subscriptions", testPushSubscriptions},
		{"Push/SubscriptionLimit", testPushSubscriptionLimit},
		{"Push/SubscriptionExpiry", testPushSubscriptionExpiry},
		{"Push/DueChecks", testDuePushChecks},
		{"Push/Check", testPushCheck},
		{"Push/Claims", testPushClaims},
		{"Push/FinishCheck", testFinishPushCheck},
		{"Push/Pending", testPendingPushes},
		{"Push/PendingHeldUntil", testPendingHeld},
		{"Push/Gone", testPushGone},
	}
}

// mustSubscribe adds a subscription for u with endpoint on host.
func mustSubscribe(t *testing.T, s parley.Store, u parley.User, endpoint string, at time.Time) parley.PushSubscription {
	t.Helper()
	sub := parley.PushSubscription{UserID: u.ID, Endpoint: endpoint, P256dh: "key-" + endpoint, Auth: "auth",
		Label: "device", LastUsed: at}
	ok(t, s.AddPushSubscription(context.Background(), &sub, parley.PushSubscriptionsMax), "AddPushSubscription")
	return sub
}

func sendMentioning(t *testing.T, s parley.Store, conv int64, sender parley.User, text string, at time.Time, mentions ...int64) parley.Message {
	t.Helper()
	m, _, err := s.AppendMessage(context.Background(), parley.NewMessage{ConversationID: conv, SenderID: sender.ID,
		ClientMsgID: fmt.Sprintf("m%d", next()), Kind: parley.MessageText, Text: text, CreatedAt: at, Mentions: mentions})
	ok(t, err, "AppendMessage with mentions")
	return m
}

func summaryOf(t *testing.T, s parley.Store, u parley.User, conv int64) parley.ConversationSummary {
	t.Helper()
	list, err := s.Conversations(context.Background(), u.ID)
	ok(t, err, "Conversations")
	for _, c := range list {
		if c.ID == conv {
			return c
		}
	}
	t.Fatalf("conversation %d not in %s's list", conv, u.Username)
	return parley.ConversationSummary{}
}

func testMentionsStored(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob, carol)
	m := sendMentioning(t, s, g.ID, alice, "hi @bob @carol", at(1), bob.ID, carol.ID)
	same(t, "appended mentions", m.Mentions, []int64{bob.ID, carol.ID})
	got, err := s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "stored message", got, m)
	page, err := s.Messages(ctx, g.ID, parley.MessageQuery{AfterSeq: m.Seq - 1, Limit: 10})
	ok(t, err, "Messages")
	same(t, "history mentions", page[0].Mentions, []int64{bob.ID, carol.ID})
	plain := MustSend(t, s, g.ID, alice, "no one")
	if plain.Mentions != nil {
		t.Fatalf("message without mentions has %v", plain.Mentions)
	}
	if last := summaryOf(t, s, bob, g.ID).LastMessage; last == nil || last.Mentions != nil {
		t.Fatalf("last message %+v, want the plain one", last)
	}

	e, err := s.EditMessage(ctx, g.ID, m.Seq, alice.ID, "hi @carol", []int64{carol.ID}, at(2))
	ok(t, err, "EditMessage")
	same(t, "edited mentions", e.Mentions, []int64{carol.ID})
	got, err = s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "stored after edit", got.Mentions, []int64{carol.ID})

	d, err := s.DeleteMessage(ctx, g.ID, m.Seq, alice.ID, false, at(3))
	ok(t, err, "DeleteMessage")
	if d.Mentions != nil {
		t.Fatalf("deleted message keeps mentions %v", d.Mentions)
	}
	got, err = s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	if got.Mentions != nil {
		t.Fatalf("stored tombstone keeps mentions %v", got.Mentions)
	}
}

func testMentionsUnread(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob, carol)
	m1 := sendMentioning(t, s, g.ID, alice, "@bob one", at(1), bob.ID)
	sendMentioning(t, s, g.ID, alice, "@carol", at(2), carol.ID)
	m3 := sendMentioning(t, s, g.ID, carol, "@bob two", at(3), bob.ID)
	if n := summaryOf(t, s, bob, g.ID).UnreadMentions; n != 2 {
		t.Fatalf("bob's unread mentions = %d, want 2", n)
	}
	if n := summaryOf(t, s, alice, g.ID).UnreadMentions; n != 0 {
		t.Fatalf("alice's unread mentions = %d, want 0", n)
	}
	_, _, err := s.SetMarks(ctx, g.ID, bob.ID, m1.Seq, m1.Seq, at(0), 100)
	ok(t, err, "SetMarks")
	if n := summaryOf(t, s, bob, g.ID).UnreadMentions; n != 1 {
		t.Fatalf("bob's unread mentions after reading the first = %d, want 1", n)
	}
	_, err = s.EditMessage(ctx, g.ID, m3.Seq, carol.ID, "two", nil, at(4))
	ok(t, err, "EditMessage")
	if n := summaryOf(t, s, bob, g.ID).UnreadMentions; n != 0 {
		t.Fatalf("bob's unread mentions after the mention was edited away = %d, want 0", n)
	}
	m4 := sendMentioning(t, s, g.ID, carol, "@bob three", at(5), bob.ID)
	_, err = s.DeleteMessage(ctx, g.ID, m4.Seq, carol.ID, false, at(6))
	ok(t, err, "DeleteMessage")
	if n := summaryOf(t, s, bob, g.ID).UnreadMentions; n != 0 {
		t.Fatalf("bob's unread mentions after the mention was deleted = %d, want 0", n)
	}
}

func testMemberIDsByUsername(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob)
	got, err := s.MemberIDsByUsername(ctx, g.ID, []string{"bob", "carol", "nobody", "alice"})
	ok(t, err, "MemberIDsByUsername")
	slices.Sort(got)
	same(t, "member ids", got, []int64{alice.ID, bob.ID})
	_ = carol
	got, err = s.MemberIDsByUsername(ctx, g.ID, nil)
	ok(t, err, "MemberIDsByUsername(none)")
	if len(got) != 0 {
		t.Fatalf("no names gave %v", got)
	}
}

func testNotifySettings(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob)
	same(t, "default settings", summaryOf(t, s, bob, g.ID).Notify, parley.NotifySettings{Level: parley.NotifyDefault})

	until := at(60)
	got, err := s.UpdateNotifySettings(ctx, g.ID, bob.ID, parley.NotifyUpdate{Level: new(parley.NotifyMentions), Mute: true, MutedUntil: &until})
	ok(t, err, "UpdateNotifySettings")
	want := parley.NotifySettings{Level: parley.NotifyMentions, MutedUntil: normp(until)}
	same(t, "returned settings", got, want)
	same(t, "listed settings", summaryOf(t, s, bob, g.ID).Notify, want)
	same(t, "alice's settings", summaryOf(t, s, alice, g.ID).Notify, parley.NotifySettings{Level: parley.NotifyDefault})

	got, err = s.UpdateNotifySettings(ctx, g.ID, bob.ID, parley.NotifyUpdate{Level: new(parley.NotifyOff)})
	ok(t, err, "UpdateNotifySettings(level only)")
	same(t, "level changed, still muted", got, parley.NotifySettings{Level: parley.NotifyOff, MutedUntil: normp(until)})
	got, err = s.UpdateNotifySettings(ctx, g.ID, bob.ID, parley.NotifyUpdate{Mute: true})
	ok(t, err, "UpdateNotifySettings(unmute)")
	same(t, "unmuted", got, parley.NotifySettings{Level: parley.NotifyOff})
	same(t, "listed after unmute", summaryOf(t, s, bob, g.ID).Notify, parley.NotifySettings{Level: parley.NotifyOff})

	_, err = s.UpdateNotifySettings(ctx, g.ID, carol.ID, parley.NotifyUpdate{Level: new(parley.NotifyAll)})
	wantCode(t, err, parley.ENOTFOUND, "UpdateNotifySettings(not a member)")
}

func testHideNotificationText(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	if alice.HideNotificationText {
		t.Fatal("a new user hides notification text")
	}
	u, err := s.UpdateUser(ctx, alice.ID, parley.UserUpdate{HideNotificationText: new(true)})
	ok(t, err, "UpdateUser")
	if !u.HideNotificationText || !mustUser(t, s, alice.ID).HideNotificationText {
		t.Fatal("hide_notification_text not stored")
	}
	u, err = s.UpdateUser(ctx, alice.ID, parley.UserUpdate{DisplayName: new("Al")})
	ok(t, err, "UpdateUser")
	if !u.HideNotificationText {
		t.Fatal("an update of another field changed hide_notification_text")
	}
}

func testVAPIDKey(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := s.VAPIDKey(ctx)
	wantCode(t, err, parley.ENOTFOUND, "VAPIDKey(none)")
	k1 := parley.VAPIDKey{Public: "pub1", Private: "priv1", CreatedAt: at(1)}
	got, err := s.InitVAPIDKey(ctx, k1)
	ok(t, err, "InitVAPIDKey")
	same(t, "first key", got, parley.VAPIDKey{Public: "pub1", Private: "priv1", CreatedAt: norm(at(1))})
	got, err = s.InitVAPIDKey(ctx, parley.VAPIDKey{Public: "pub2", Private: "priv2", CreatedAt: at(2)})
	ok(t, err, "InitVAPIDKey(again)")
	if got.Public != "pub1" || got.Private != "priv1" {
		t.Fatalf("second InitVAPIDKey returned %+v, want the first key", got)
	}

	alice := MustUser(t, s, "alice")
	mustSubscribe(t, s, alice, "https://push.example/a", at(1))
	n, err := s.RotateVAPIDKey(ctx, parley.VAPIDKey{Public: "pub3", Private: "priv3", CreatedAt: at(3)})
	ok(t, err, "RotateVAPIDKey")
	if n != 1 {
		t.Fatalf("RotateVAPIDKey deleted %d subscriptions, want 1", n)
	}
	got, err = s.VAPIDKey(ctx)
	ok(t, err, "VAPIDKey")
	if got.Public != "pub3" || got.Private != "priv3" {
		t.Fatalf("key after rotation %+v", got)
	}
	subs, err := s.PushSubscriptions(ctx, alice.ID)
	ok(t, err, "PushSubscriptions")
	if len(subs) != 0 {
		t.Fatalf("subscriptions after rotation: %v", subs)
	}
}

func testPushSubscriptions(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	a1 := mustSubscribe(t, s, alice, "https://push.example/a1", at(1))
	if a1.ID == 0 {
		t.Fatal("AddPushSubscription set no id")
	}
	sameTime(t, "created", a1.CreatedAt, at(1))
	sameTime(t, "last used", a1.LastUsed, at(1))
	a2 := mustSubscribe(t, s, alice, "https://push.example/a2", at(2))

	// The same endpoint again: the same subscription, new keys and label.
	again := parley.PushSubscription{UserID: alice.ID, Endpoint: a1.Endpoint, P256dh: "new-key", Auth: "new-auth",
		Label: "renamed", LastUsed: at(3)}
	ok(t, s.AddPushSubscription(ctx, &again, parley.PushSubscriptionsMax), "AddPushSubscription(again)")
	if again.ID != a1.ID {
		t.Fatalf("re-registered endpoint got id %d, want %d", again.ID, a1.ID)
	}
	same(t, "re-registered", again, parley.PushSubscription{ID: a1.ID, UserID: alice.ID, Endpoint: a1.Endpoint,
		P256dh: "new-key", Auth: "new-auth", Label: "renamed", CreatedAt: norm(at(1)), LastUsed: norm(at(3))})
	list, err := s.PushSubscriptions(ctx, alice.ID)
	ok(t, err, "PushSubscriptions")
	same(t, "alice's subscriptions", list, []parley.PushSubscription{again, a2})

	// Bob logs in on alice's browser: the endpoint becomes his.
	b := mustSubscribe(t, s, bob, a2.Endpoint, at(4))
	list, err = s.PushSubscriptions(ctx, alice.ID)
	ok(t, err, "PushSubscriptions")
	same(t, "alice's after bob took one", list, []parley.PushSubscription{again})
	list, err = s.PushSubscriptions(ctx, bob.ID)
	ok(t, err, "PushSubscriptions")
	same(t, "bob's", list, []parley.PushSubscription{b})

	wantCode(t, s.DeletePushSubscription(ctx, alice.ID, b.ID), parley.ENOTFOUND, "DeletePushSubscription(another's)")
	ok(t, s.DeletePushSubscription(ctx, bob.ID, b.ID), "DeletePushSubscription")
	wantCode(t, s.DeletePushSubscription(ctx, bob.ID, b.ID), parley.ENOTFOUND, "DeletePushSubscription(again)")
	list, err = s.PushSubscriptions(ctx, bob.ID)
	ok(t, err, "PushSubscriptions")
	if len(list) != 0 {
		t.Fatalf("bob's after delete: %v", list)
	}
}

func testPushSubscriptionLimit(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	var subs []parley.PushSubscription
	for i := range 3 {
		sub := parley.PushSubscription{UserID: alice.ID, Endpoint: fmt.Sprintf("https://push.example/%d", i),
			P256dh: "k", Auth: "a", LastUsed: at(10 - i)} // the newest is used least recently
		ok(t, s.AddPushSubscription(ctx, &sub, 3), "AddPushSubscription")
		subs = append(subs, sub)
	}
	extra := parley.PushSubscription{UserID: alice.ID, Endpoint: "https://push.example/extra", P256dh: "k", Auth: "a", LastUsed: at(20)}
	ok(t, s.AddPushSubscription(ctx, &extra, 3), "AddPushSubscription(over the limit)")
	list, err := s.PushSubscriptions(ctx, alice.ID)
	ok(t, err, "PushSubscriptions")
	var endpoints []string
	for _, p := range list {
		endpoints = append(endpoints, p.Endpoint)
	}
	slices.Sort(endpoints)
	same(t, "kept", endpoints, []string{subs[0].Endpoint, subs[1].Endpoint, extra.Endpoint})
}

func testPushSubscriptionExpiry(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	old := mustSubscribe(t, s, alice, "https://push.example/old", at(1))
	fresh := mustSubscribe(t, s, alice, "https://push.example/fresh", at(1))
	g := MustGroup(t, s, "Club", alice)
	_, err := s.QueuePush(ctx, alice.ID, parley.PushNotice{Payload: []byte("{}"), Urgency: parley.UrgencyNormal, TTL: time.Hour, Since: at(1), Due: at(1)})
	ok(t, err, "QueuePush")
	_ = g
	// A push the service accepted counts as use.
	pending, err := s.ClaimPendingPushes(ctx, at(2), at(3), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	for _, p := range pending {
		if p.SubscriptionID == fresh.ID {
			ok(t, s.PushSent(ctx, p.ID, at(30)), "PushSent")
		}
	}
	n, err := s.ExpirePushSubscriptions(ctx, at(20))
	ok(t, err, "ExpirePushSubscriptions")
	if n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	list, err := s.PushSubscriptions(ctx, alice.ID)
	ok(t, err, "PushSubscriptions")
	if len(list) != 1 || list[0].ID != fresh.ID {
		t.Fatalf("after expiry: %v, want only %d (not %d)", list, fresh.ID, old.ID)
	}
	sameTime(t, "last used after a push", list[0].LastUsed, at(30))
	// The expired subscription's pending push went with it.
	left, err := s.ClaimPendingPushes(ctx, at(40), at(41), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(left) != 0 {
		t.Fatalf("pending pushes left: %v", left)
	}
}

func testDuePushChecks(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	g := MustGroup(t, s, "Club", alice, bob) // system messages start no clock
	d := MustDirect(t, s, alice, bob)
	ids, err := s.DuePushChecks(ctx, at(100), at(200), 10)
	ok(t, err, "DuePushChecks")
	if len(ids) != 0 {
		t.Fatalf("due before any text: %v", ids)
	}
	MustSendAt(t, s, g.ID, alice, "one", at(10))
	MustSendAt(t, s, g.ID, alice, "two", at(11)) // the clock keeps the first
	MustSendAt(t, s, d.ID, bob, "hi", at(5))

	ids, err = s.DuePushChecks(ctx, at(9), at(50), 10)
	ok(t, err, "DuePushChecks")
	same(t, "due at 9", ids, []int64{d.ID})
	ids, err = s.DuePushChecks(ctx, at(10), at(50), 10)
	ok(t, err, "DuePushChecks")
	same(t, "due at 10 (the direct chat is held)", ids, []int64{g.ID})
	ids, err = s.DuePushChecks(ctx, at(49), at(60), 10)
	ok(t, err, "DuePushChecks")
	if len(ids) != 0 {
		t.Fatalf("held conversations due again before their time: %v", ids)
	}
	// A node that took them died: they come back at the hold's end.
	ids, err = s.DuePushChecks(ctx, at(50), at(60), 1)
	ok(t, err, "DuePushChecks")
	if len(ids) != 1 {
		t.Fatalf("after the hold, with limit 1: %v", ids)
	}
}

func testPushCheck(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol, dave := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol"), MustUser(t, s, "dave")
	g := MustGroup(t, s, "Club", alice, bob, carol, dave)
	for _, u := range []parley.User{alice, bob, carol} {
		mustSubscribe(t, s, u, "https://push.example/"+u.Username, at(0))
	}
	// dave has no subscription; carol holds everything; alice sent last.
	other := MustDirect(t, s, bob, dave)
	MustSendAt(t, s, other.ID, dave, "unread elsewhere", at(1))
	m1 := MustSendAt(t, s, g.ID, bob, "one", at(2))
	_, _, err := s.AppendMessage(ctx, parley.NewMessage{ConversationID: g.ID, Kind: parley.MessageSystem,
		System: &parley.SystemInfo{Event: parley.SysCall, Name: "missed"}, CreatedAt: at(2)})
	ok(t, err, "AppendMessage(system)")
	m2 := sendMentioning(t, s, g.ID, alice, "two @bob", at(3), bob.ID)
	c := mustConversation(t, s, g.ID)
	_, _, err = s.SetMarks(ctx, g.ID, carol.ID, c.LastSeq, 0, at(0), 100)
	ok(t, err, "SetMarks")
	c = mustConversation(t, s, g.ID)
	until := at(90)
	_, err = s.UpdateNotifySettings(ctx, g.ID, bob.ID, parley.NotifyUpdate{Level: new(parley.NotifyMentions), Mute: true, MutedUntil: &until})
	ok(t, err, "UpdateNotifySettings")
	_, err = s.UpdateUser(ctx, bob.ID, parley.UserUpdate{HideNotificationText: new(true)})
	ok(t, err, "UpdateUser")

	pc, err := s.PushCheck(ctx, g.ID, 100)
	ok(t, err, "PushCheck")
	same(t, "conversation", pc.Conversation, c)
	bobMember := mustMember(t, s, g.ID, bob.ID)
	same(t, "members", pc.Members, []parley.PushMember{{
		UserID: bob.ID, DeliveredSeq: bobMember.DeliveredSeq, PushedSeq: 0,
		Settings: parley.NotifySettings{Level: parley.NotifyMentions, MutedUntil: normp(until)},
		HideText: true,
		Unread:   (c.LastSeq - bobMember.ReadSeq) + 1, // one unread in the direct chat
	}})
	same(t, "messages", seqs(pc.Messages), []int64{m2.Seq})
	same(t, "message mentions", pc.Messages[0].Mentions, []int64{bob.ID})
	_ = m1

	pc, err = s.PushCheck(ctx, g.ID, 0+1)
	ok(t, err, "PushCheck(limit 1)")
	if len(pc.Messages) != 1 || pc.Messages[0].Seq != m2.Seq {
		t.Fatalf("PushCheck with limit 1: %v, want the newest", seqs(pc.Messages))
	}
	_, err = s.PushCheck(ctx, g.ID+1000, 10)
	wantCode(t, err, parley.ENOTFOUND, "PushCheck(unknown)")
}

func notice(payload string, due time.Time) *parley.PushNotice {
	return &parley.PushNotice{Payload: []byte(payload), Urgency: parley.UrgencyHigh, Topic: "t", TTL: time.Hour,
		Since: due, Due: due}
}

func testPushClaims(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob, carol)
	mustSubscribe(t, s, bob, "https://push.example/bob1", at(0))
	mustSubscribe(t, s, bob, "https://push.example/bob2", at(0))
	mustSubscribe(t, s, carol, "https://push.example/carol", at(0))
	m := MustSendAt(t, s, g.ID, alice, "hello", at(1))
	bm := mustMember(t, s, g.ID, bob.ID)
	cm := mustMember(t, s, g.ID, carol.ID)

	// Carol's device gets the message between the check and the claim.
	_, _, err := s.SetMarks(ctx, g.ID, carol.ID, m.Seq, 0, at(0), 100)
	ok(t, err, "SetMarks")
	done, err := s.ClaimPushes(ctx, []parley.PushClaim{
		{ConversationID: g.ID, UserID: bob.ID, FromPushed: 0, FromDelivered: bm.DeliveredSeq, ToSeq: m.Seq, Push: notice(`{"n":1}`, at(2))},
		{ConversationID: g.ID, UserID: carol.ID, FromPushed: 0, FromDelivered: cm.DeliveredSeq, ToSeq: m.Seq, Push: notice(`{"n":2}`, at(2))},
	})
	ok(t, err, "ClaimPushes")
	same(t, "claims taken", done, []bool{true, false})
	// The same decision again (another node, late) takes nothing.
	done, err = s.ClaimPushes(ctx, []parley.PushClaim{
		{ConversationID: g.ID, UserID: bob.ID, FromPushed: 0, FromDelivered: bm.DeliveredSeq, ToSeq: m.Seq, Push: notice(`{"n":1}`, at(2))},
	})
	ok(t, err, "ClaimPushes(again)")
	same(t, "repeated claim", done, []bool{false})

	pending, err := s.ClaimPendingPushes(ctx, at(2), at(3), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(pending) != 2 {
		t.Fatalf("pending pushes: %d, want one per subscription of bob", len(pending))
	}
	for _, p := range pending {
		if p.UserID != bob.ID || string(p.Payload) != `{"n":1}` || p.Urgency != parley.UrgencyHigh || p.Topic != "t" ||
			p.TTL != time.Hour || p.Host != "push.example:443" || p.Attempts != 0 {
			t.Fatalf("pending push %+v", p)
		}
		sameTime(t, "since", p.Since, at(2))
		ok(t, s.PushSent(ctx, p.ID, at(2)), "PushSent")
	}

	// A claim without a push (muted, say) only moves the mark.
	m2 := MustSendAt(t, s, g.ID, alice, "again", at(4))
	done, err = s.ClaimPushes(ctx, []parley.PushClaim{
		{ConversationID: g.ID, UserID: bob.ID, FromPushed: m.Seq, FromDelivered: bm.DeliveredSeq, ToSeq: m2.Seq},
	})
	ok(t, err, "ClaimPushes(no push)")
	same(t, "silent claim", done, []bool{true})
	pc, err := s.PushCheck(ctx, g.ID, 10)
	ok(t, err, "PushCheck")
	for _, pm := range pc.Members {
		if pm.UserID == bob.ID {
			t.Fatalf("bob still a candidate after his pushed_seq reached last_seq: %+v", pm)
		}
	}
	more, err := s.ClaimPendingPushes(ctx, at(5), at(6), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(more) != 0 {
		t.Fatalf("a silent claim queued pushes: %v", more)
	}
}

func testFinishPushCheck(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	m := MustSendAt(t, s, d.ID, alice, "one", at(1))
	ids, err := s.DuePushChecks(ctx, at(1), at(100), 10)
	ok(t, err, "DuePushChecks")
	same(t, "due", ids, []int64{d.ID})

	// Nothing new: the check sets the next due time, or none.
	next := at(5)
	ok(t, s.FinishPushCheck(ctx, d.ID, m.Seq, &next, at(3)), "FinishPushCheck")
	ids, err = s.DuePushChecks(ctx, at(4), at(100), 10)
	ok(t, err, "DuePushChecks")
	if len(ids) != 0 {
		t.Fatalf("due before next: %v", ids)
	}
	ids, err = s.DuePushChecks(ctx, at(5), at(100), 10)
	ok(t, err, "DuePushChecks")
	same(t, "due at next", ids, []int64{d.ID})
	ok(t, s.FinishPushCheck(ctx, d.ID, m.Seq, nil, at(6)), "FinishPushCheck(nothing left)")
	ids, err = s.DuePushChecks(ctx, at(1000), at(2000), 10)
	ok(t, err, "DuePushChecks")
	if len(ids) != 0 {
		t.Fatalf("due with nothing left: %v", ids)
	}

	// A message that arrives during a check (its append found the clock
	// running) is due at the check's end at the latest.
	m2 := MustSendAt(t, s, d.ID, alice, "two", at(10))
	_, err = s.DuePushChecks(ctx, at(10), at(100), 10)
	ok(t, err, "DuePushChecks")
	MustSendAt(t, s, d.ID, bob, "three", at(11))
	ok(t, s.FinishPushCheck(ctx, d.ID, m2.Seq, nil, at(12)), "FinishPushCheck(new message)")
	ids, err = s.DuePushChecks(ctx, at(12), at(100), 10)
	ok(t, err, "DuePushChecks")
	same(t, "due after a message during the check", ids, []int64{d.ID})
	next = at(20)
	MustSendAt(t, s, d.ID, bob, "four", at(13))
	ok(t, s.FinishPushCheck(ctx, d.ID, m2.Seq, &next, at(14)), "FinishPushCheck(new message, later next)")
	ids, err = s.DuePushChecks(ctx, at(14), at(100), 10)
	ok(t, err, "DuePushChecks")
	same(t, "due at the check's end", ids, []int64{d.ID})
}

func testPendingPushes(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	mustSubscribe(t, s, alice, "https://a.example/1", at(0))
	mustSubscribe(t, s, alice, "https://b.example/1", at(0))
	mustSubscribe(t, s, bob, "https://a.example/2", at(0))
	n, err := s.QueuePush(ctx, alice.ID, *notice(`{"call":1}`, at(1)))
	ok(t, err, "QueuePush")
	if n != 2 {
		t.Fatalf("QueuePush queued %d, want 2", n)
	}
	n, err = s.QueuePush(ctx, bob.ID, *notice(`{"call":2}`, at(2)))
	ok(t, err, "QueuePush")
	if n != 1 {
		t.Fatalf("QueuePush queued %d, want 1", n)
	}
	got, err := s.ClaimPendingPushes(ctx, at(0), at(10), nil, 10)
	ok(t, err, "ClaimPendingPushes(before due)")
	if len(got) != 0 {
		t.Fatalf("claimed before due: %v", got)
	}
	got, err = s.ClaimPendingPushes(ctx, at(5), at(10), []string{"b.example:443"}, 10)
	ok(t, err, "ClaimPendingPushes(skip b)")
	var hosts []string
	for _, p := range got {
		hosts = append(hosts, p.Host)
	}
	same(t, "hosts claimed, oldest due first", hosts, []string{"a.example:443", "a.example:443"})
	if got[0].UserID != alice.ID || got[1].UserID != bob.ID {
		t.Fatalf("claimed %+v", got)
	}
	// Bob's is retried later (429), alice's sent.
	ok(t, s.RetryPush(ctx, got[1].ID, at(20), false), "RetryPush")
	ok(t, s.PushSent(ctx, got[0].ID, at(6)), "PushSent")
	wantCode(t, s.RetryPush(ctx, got[0].ID, at(20), true), parley.ENOTFOUND, "RetryPush(sent)")

	got, err = s.ClaimPendingPushes(ctx, at(7), at(10), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(got) != 1 || got[0].Host != "b.example:443" {
		t.Fatalf("claimed %+v, want alice's on b", got)
	}
	ok(t, s.RetryPush(ctx, got[0].ID, at(8), true), "RetryPush(counted)")
	got, err = s.ClaimPendingPushes(ctx, at(8), at(10), nil, 1)
	ok(t, err, "ClaimPendingPushes")
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("claimed %+v, want one with 1 attempt", got)
	}
	ok(t, s.DropPush(ctx, got[0].ID), "DropPush")
	got, err = s.ClaimPendingPushes(ctx, at(20), at(30), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(got) != 1 || got[0].UserID != bob.ID || got[0].Attempts != 0 {
		t.Fatalf("claimed %+v, want bob's with no attempt counted", got)
	}
}

func testPendingHeld(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	mustSubscribe(t, s, alice, "https://a.example/1", at(0))
	_, err := s.QueuePush(ctx, alice.ID, *notice(`{}`, at(1)))
	ok(t, err, "QueuePush")
	got, err := s.ClaimPendingPushes(ctx, at(1), at(5), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(got) != 1 {
		t.Fatalf("claimed %d", len(got))
	}
	again, err := s.ClaimPendingPushes(ctx, at(4), at(8), nil, 10)
	ok(t, err, "ClaimPendingPushes(held)")
	if len(again) != 0 {
		t.Fatalf("a held push was claimed again: %v", again)
	}
	// The node holding it died: another takes it once the hold ends.
	again, err = s.ClaimPendingPushes(ctx, at(5), at(8), nil, 10)
	ok(t, err, "ClaimPendingPushes(hold over)")
	if len(again) != 1 || again[0].ID != got[0].ID {
		t.Fatalf("after the hold: %v", again)
	}
}

func testPushGone(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	sub := mustSubscribe(t, s, alice, "https://a.example/1", at(0))
	keep := mustSubscribe(t, s, alice, "https://a.example/2", at(0))
	_, err := s.QueuePush(ctx, alice.ID, *notice(`{}`, at(1)))
	ok(t, err, "QueuePush")
	ok(t, s.PushGone(ctx, sub.ID), "PushGone")
	list, err := s.PushSubscriptions(ctx, alice.ID)
	ok(t, err, "PushSubscriptions")
	same(t, "left", list, []parley.PushSubscription{keep})
	got, err := s.ClaimPendingPushes(ctx, at(2), at(3), nil, 10)
	ok(t, err, "ClaimPendingPushes")
	if len(got) != 1 || got[0].SubscriptionID != keep.ID {
		t.Fatalf("pending after PushGone: %+v", got)
	}
}
