package service_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"parley"
	"parley/service"
)

// The rules the service applies, on SQLite: who may read and change a
// conversation, roles and ownership, acceptance of direct messages, receipt
// marks, and sync. Each checks the answer and what was announced.

// events records the frames published on a bus topic.
type events struct {
	mu     sync.Mutex
	frames []map[string]any
}

// watch records what is published on topic from now on.
func (e *env) watch(topic string) *events {
	e.t.Helper()
	ev := &events{}
	unsub, err := e.bus.Subscribe(topic, func(data []byte) {
		pe, err := parley.UnmarshalEvent(data)
		if err != nil || len(pe.Frame) == 0 {
			return
		}
		var f map[string]any
		if json.Unmarshal(pe.Frame, &f) != nil {
			return
		}
		f["_seq"] = float64(pe.Seq) // the event's seq, for the frames that carry a new message
		ev.mu.Lock()
		ev.frames = append(ev.frames, f)
		ev.mu.Unlock()
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(unsub)
	return ev
}

// take returns the frames recorded so far with ev == name, and forgets
// every frame recorded so far. The in-process bus delivers during Publish,
// so a service call's events are recorded when it returns.
func (ev *events) take(name string) []map[string]any {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []map[string]any
	for _, f := range ev.frames {
		if f["ev"] == name {
			out = append(out, f)
		}
	}
	ev.frames = nil
	return out
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// group makes a group of owner with the others joined, in order.
func (e *env) group(owner parley.User, others ...parley.User) parley.ConversationSummary {
	e.t.Helper()
	g, err := e.svc.CreateGroup(e.ctx, owner.ID, "Group", "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range others {
		if _, joined, err := e.svc.JoinGroup(e.ctx, u.ID, g.Code, "192.0.2.1"); err != nil || !joined {
			e.t.Fatalf("join %s: %v %v", u.Username, joined, err)
		}
	}
	return g
}

func (e *env) send(u parley.User, convID int64, text string) parley.Message {
	e.t.Helper()
	e.sent++
	m, _, err := e.svc.Send(e.ctx, u.ID, convID, fmt.Sprint("c", e.sent), text)
	if err != nil {
		e.t.Fatalf("send %q: %v", text, err)
	}
	return m
}

func (e *env) role(convID int64, u parley.User) string {
	e.t.Helper()
	m, err := e.store.Member(e.ctx, convID, u.ID)
	if err != nil {
		e.t.Fatalf("member %s: %v", u.Username, err)
	}
	return m.Role
}

// TestStrangersSeeNothing: to someone who is not a member, a conversation
// answers exactly as one that does not exist, on every path, and they
// change nothing.
func TestStrangersSeeNothing(t *testing.T) {
	e := sqliteEnv(t, service.Config{})
	alice, mallory := e.user("alice"), e.user("mallory")
	g := e.group(alice)
	m := e.send(alice, g.ID, "private")
	for _, id := range []int64{g.ID, 987654} {
		for what, err := range map[string]error{
			"conversation": func() error { _, err := e.svc.Conversation(e.ctx, mallory.ID, id); return err }(),
			"members":      func() error { _, err := e.svc.Members(e.ctx, mallory.ID, id); return err }(),
			"history":      func() error { _, _, err := e.svc.History(e.ctx, mallory.ID, id, parley.MessageQuery{}); return err }(),
			"send":         func() error { _, _, err := e.svc.Send(e.ctx, mallory.ID, id, "m1", "hi"); return err }(),
			"edit":         func() error { _, err := e.svc.Edit(e.ctx, mallory.ID, id, m.Seq, "mine now"); return err }(),
			"delete":       func() error { _, err := e.svc.Delete(e.ctx, mallory.ID, id, m.Seq); return err }(),
			"receipt":      func() error { _, err := e.svc.Receipt(e.ctx, mallory.ID, id, 1, 1); return err }(),
			"typing":       e.svc.Typing(e.ctx, mallory.ID, id, true, ""),
			"rename":       func() error { _, err := e.svc.Rename(e.ctx, mallory.ID, id, "Mine"); return err }(),
			"leave":        e.svc.Leave(e.ctx, mallory.ID, id),
			"call":         func() error { _, err := e.svc.CallPeer(e.ctx, mallory.ID, id); return err }(),
		} {
			if parley.ErrorCode(err) != parley.ENOTFOUND || parley.ErrorMessage(err) != parley.ErrNotFound.Message {
				t.Errorf("%s on conversation %d: %v, want the one not_found", what, id, err)
			}
		}
	}
	msgs, _, err := e.svc.History(e.ctx, alice.ID, g.ID, parley.MessageQuery{})
	if err != nil || msgs[len(msgs)-1].Text != "private" || msgs[len(msgs)-1].EditedAt != nil || msgs[len(msgs)-1].DeletedAt != nil {
		t.Fatalf("history changed: %+v %v", msgs, err)
	}
	if c, _ := e.svc.Conversation(e.ctx, alice.ID, g.ID); c.Name != "Group" || c.MemberCount != 1 {
		t.Fatalf("conversation changed: %+v", c)
	}
}

// TestRemovedMemberLosesAccess: once removed, a member reads nothing more,
// is told on their own topic, and the others hear of it.
func TestRemovedMemberLosesAccess(t *testing.T) {
	e := sqliteEnv(t, service.Config{})
	alice, bob := e.user("alice"), e.user("bob")
	g := e.group(alice, bob)
	bobs, members := e.watch(parley.UserTopic(bob.ID)), e.watch(parley.ConversationTopic(g.ID))
	if err := e.svc.RemoveMember(e.ctx, alice.ID, g.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.History(e.ctx, bob.ID, g.ID, parley.MessageQuery{}); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("history after removal: %v", err)
	}
	if _, _, err := e.svc.Send(e.ctx, bob.ID, g.ID, "b1", "still here?"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("send after removal: %v", err)
	}
	if got := bobs.take("conversation"); len(got) != 1 || got[0]["change"] != "removed" {
		t.Fatalf("bob was told %v", got)
	}
	if got := members.take("member"); len(got) != 1 || got[0]["change"] != "removed" || num(got[0]["member"].(map[string]any)["user_id"]) != bob.ID {
		t.Fatalf("members were told %v", got)
	}
}

// TestRoles: members cannot moderate; admins can, except to hand over
// ownership or touch the owner; bad roles and direct chats are refused.
func TestRoles(t *testing.T) {
	e := sqliteEnv(t, service.Config{})
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	g := e.group(alice, bob, carol)
	if r := e.role(g.ID, alice); r != parley.RoleOwner {
		t.Fatalf("creator is %s", r)
	}
	if r := e.role(g.ID, bob); r != parley.RoleMember {
		t.Fatalf("joiner is %s", r)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		wantCode(t, err, parley.EFORBIDDEN)
	}
	_, err := e.svc.Rename(e.ctx, bob.ID, g.ID, "Bob's")
	forbidden("member renames", err)
	_, err = e.svc.SetCode(e.ctx, bob.ID, g.ID, "")
	forbidden("member rotates the code", err)
	_, err = e.svc.SetRole(e.ctx, bob.ID, g.ID, carol.ID, parley.RoleAdmin)
	forbidden("member makes an admin", err)
	forbidden("member removes", e.svc.RemoveMember(e.ctx, bob.ID, g.ID, carol.ID))
	m := e.send(carol, g.ID, "carol's")
	_, err = e.svc.Delete(e.ctx, bob.ID, g.ID, m.Seq)
	forbidden("member deletes another's message", err)

	if _, err := e.svc.SetRole(e.ctx, alice.ID, g.ID, bob.ID, parley.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Rename(e.ctx, bob.ID, g.ID, "Renamed"); err != nil {
		t.Fatalf("admin renames: %v", err)
	}
	if _, err := e.svc.Delete(e.ctx, bob.ID, g.ID, m.Seq); err != nil {
		t.Fatalf("admin deletes another's message: %v", err)
	}
	_, err = e.svc.SetRole(e.ctx, bob.ID, g.ID, carol.ID, parley.RoleOwner)
	forbidden("admin hands over ownership", err)
	_, err = e.svc.SetRole(e.ctx, bob.ID, g.ID, alice.ID, parley.RoleMember)
	forbidden("admin demotes the owner", err)
	forbidden("admin removes the owner", e.svc.RemoveMember(e.ctx, bob.ID, g.ID, alice.ID))
	if r := e.role(g.ID, alice); r != parley.RoleOwner {
		t.Fatalf("owner is now %s", r)
	}
	_, err = e.svc.SetRole(e.ctx, alice.ID, g.ID, carol.ID, "boss")
	wantCode(t, err, parley.EINVALID)
	if f := parley.ErrorField(err); f != "role" {
		t.Fatalf("bad role: field %q", f)
	}

	d, _, err := e.svc.Direct(e.ctx, alice.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Rename(e.ctx, alice.ID, d.ID, "Us")
	wantCode(t, err, parley.EINVALID)
	wantCode(t, e.svc.Leave(e.ctx, alice.ID, d.ID), parley.EINVALID)
}

// TestOwnershipHandOver: the owner who makes someone owner becomes admin,
// and both changes are announced; when the owner leaves, the
// longest-standing admin becomes owner, and that is announced too.
func TestOwnershipHandOver(t *testing.T) {
	e := sqliteEnv(t, service.Config{})
	alice, bob, carol, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave")
	g := e.group(alice, bob, carol, dave)
	for _, u := range []parley.User{carol, dave} {
		if _, err := e.svc.SetRole(e.ctx, alice.ID, g.ID, u.ID, parley.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	members := e.watch(parley.ConversationTopic(g.ID))
	m, err := e.svc.SetRole(e.ctx, alice.ID, g.ID, bob.ID, parley.RoleOwner)
	if err != nil || m.Role != parley.RoleOwner {
		t.Fatalf("hand over: %+v %v", m, err)
	}
	if r := e.role(g.ID, alice); r != parley.RoleAdmin {
		t.Fatalf("previous owner is %s", r)
	}
	roles := map[int64]string{}
	for _, f := range members.take("member") {
		mm := f["member"].(map[string]any)
		roles[num(mm["user_id"])] = mm["role"].(string)
	}
	if len(roles) != 2 || roles[bob.ID] != parley.RoleOwner || roles[alice.ID] != parley.RoleAdmin {
		t.Fatalf("announced roles %v", roles)
	}

	// bob leaves: alice, carol and dave are admins; alice, admin since the
	// hand-over but a member longest, becomes owner.
	if err := e.svc.Leave(e.ctx, bob.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.role(g.ID, alice); r != parley.RoleOwner {
		t.Fatalf("after the owner left, alice is %s", r)
	}
	var owners []int64
	for _, f := range members.take("member") {
		if mm := f["member"].(map[string]any); f["change"] == "role" && mm["role"] == parley.RoleOwner {
			owners = append(owners, num(mm["user_id"]))
		}
	}
	if len(owners) != 1 || owners[0] != alice.ID {
		t.Fatalf("new owner announced: %v", owners)
	}
}

// TestAcceptingMessages: someone who does not accept messages gets no new
// direct chat, no message in an existing one and no call; an existing chat
// is still returned, they may still write, and groups are unaffected.
func TestAcceptingMessages(t *testing.T) {
	e := sqliteEnv(t, service.Config{})
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	d, created, err := e.svc.Direct(e.ctx, alice.ID, "bob")
	if err != nil || !created {
		t.Fatal(err)
	}
	g := e.group(alice, bob, carol)
	off := false
	for _, u := range []parley.User{bob, carol} {
		if _, err := e.svc.UpdateMe(e.ctx, u.ID, parley.UserUpdate{AcceptingMessages: &off}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = e.svc.Direct(e.ctx, alice.ID, "carol")
	wantCode(t, err, parley.ENOTACCEPTING)
	again, created, err := e.svc.Direct(e.ctx, alice.ID, "bob")
	if err != nil || created || again.ID != d.ID {
		t.Fatalf("existing chat: %+v %v %v", again, created, err)
	}
	_, _, err = e.svc.Send(e.ctx, alice.ID, d.ID, "a1", "hello?")
	wantCode(t, err, parley.ENOTACCEPTING)
	_, err = e.svc.CallPeer(e.ctx, alice.ID, d.ID)
	wantCode(t, err, parley.ENOTACCEPTING)
	e.send(bob, d.ID, "I can still write")
	if peer, err := e.svc.CallPeer(e.ctx, bob.ID, d.ID); err != nil || peer.ID != alice.ID {
		t.Fatalf("bob calls alice: %+v %v", peer, err)
	}
	e.send(alice, g.ID, "groups are fine")
	_, err = e.svc.CallPeer(e.ctx, alice.ID, g.ID)
	wantCode(t, err, parley.EINVALID)
	if msgs, _, _ := e.svc.History(e.ctx, alice.ID, d.ID, parley.MessageQuery{}); len(msgs) != 1 {
		t.Fatalf("direct history: %+v", msgs)
	}
}

// TestReceiptsNeverGoBack: marks only move forward, stay within the
// conversation, read implies delivered, and only a change is announced.
func TestReceiptsNeverGoBack(t *testing.T) {
	e := sqliteEnv(t, service.Config{})
	alice, bob := e.user("alice"), e.user("bob")
	d, _, err := e.svc.Direct(e.ctx, alice.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	var last parley.Message
	for i := range 4 {
		last = e.send(alice, d.ID, fmt.Sprint("m", i))
	}
	receipts := e.watch(parley.ConversationTopic(d.ID))
	mark := func(delivered, read, wantDelivered, wantRead int64, announced bool) {
		t.Helper()
		m, err := e.svc.Receipt(e.ctx, bob.ID, d.ID, delivered, read)
		if err != nil || m.DeliveredSeq != wantDelivered || m.ReadSeq != wantRead {
			t.Fatalf("Receipt(%d, %d): %d/%d %v, want %d/%d", delivered, read, m.DeliveredSeq, m.ReadSeq, err, wantDelivered, wantRead)
		}
		got := receipts.take("receipt")
		if announced && (len(got) != 1 || num(got[0]["delivered_seq"]) != wantDelivered || num(got[0]["read_seq"]) != wantRead) {
			t.Fatalf("Receipt(%d, %d) announced %v", delivered, read, got)
		} else if !announced && len(got) != 0 {
			t.Fatalf("Receipt(%d, %d) changed nothing but announced %v", delivered, read, got)
		}
	}
	top := last.Seq
	mark(top-1, top-2, top-1, top-2, true)
	mark(1, 1, top-1, top-2, false) // backwards: nothing
	mark(0, top-1, top-1, top-1, true)
	mark(0, top, top, top, true)          // read implies delivered
	mark(top+50, top+50, top, top, false) // clamped to the last message
	_, err = e.svc.Receipt(e.ctx, bob.ID, d.ID, -1, 0)
	wantCode(t, err, parley.EINVALID)
}

// TestSync: a known conversation brings what came after the cursor and the
// changes to what the device holds; an unknown one its latest page; large
// groups list only the member; a message that races the sync is announced
// with its seq, so a connection holding events during the sync can drop
// the copy the sync already carried.
func TestSync(t *testing.T) {
	e := sqliteEnv(t, service.Config{LargeGroup: 3})
	alice, bob, carol, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave")
	d, _, err := e.svc.Direct(e.ctx, alice.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	first := e.send(bob, d.ID, "first")
	held := e.send(bob, d.ID, "held")
	cursor := service.Cursor{Seq: held.Seq, Mod: held.Mod}
	if _, err := e.svc.Edit(e.ctx, bob.ID, d.ID, first.Seq, "first, edited"); err != nil {
		t.Fatal(err)
	}
	var missed []parley.Message
	for i := range 3 {
		missed = append(missed, e.send(bob, d.ID, fmt.Sprint("missed ", i)))
	}
	big := e.group(alice, bob, carol, dave) // 4 members > LargeGroup
	for i := range parley.PageSizeDefault + 5 {
		e.send(carol, big.ID, fmt.Sprint("g", i))
	}

	live := e.watch(parley.ConversationTopic(d.ID))
	var raced parley.Message
	results := map[int64]service.SyncResult{}
	err = e.svc.Sync(e.ctx, alice.ID, map[int64]service.Cursor{d.ID: cursor}, func(r service.SyncResult) error {
		results[r.Conversation.ID] = r
		if raced.Seq == 0 {
			raced = e.send(bob, d.ID, "raced the sync")
		}
		return nil
	})
	if err != nil || len(results) != 2 {
		t.Fatalf("sync: %d results, %v", len(results), err)
	}

	r := results[d.ID]
	if len(r.Messages) < len(missed) {
		t.Fatalf("direct: %d messages, want at least %d", len(r.Messages), len(missed))
	}
	for i, m := range r.Messages {
		if m.Seq != cursor.Seq+1+int64(i) {
			t.Fatalf("direct: messages not contiguous after the cursor: %+v", r.Messages)
		}
	}
	if len(r.Changes) != 1 || r.Changes[0].Seq != first.Seq || r.Changes[0].Text != "first, edited" || r.HasMore {
		t.Fatalf("direct changes: %+v (has_more %v)", r.Changes, r.HasMore)
	}
	if len(r.Members) != 2 {
		t.Fatalf("direct members: %+v", r.Members)
	}

	g := results[big.ID]
	if len(g.Messages) != parley.PageSizeDefault || !g.HasMore || g.Messages[len(g.Messages)-1].Seq != g.Conversation.LastSeq {
		t.Fatalf("new group: %d messages up to %d, has_more %v, last_seq %d", len(g.Messages), g.Messages[len(g.Messages)-1].Seq, g.HasMore, g.Conversation.LastSeq)
	}
	if len(g.Members) != 1 || g.Members[0].UserID != alice.ID {
		t.Fatalf("large group members: %+v", g.Members)
	}

	news := live.take("message")
	if len(news) != 1 || num(news[0]["_seq"]) != raced.Seq || num(news[0]["message"].(map[string]any)["seq"]) != raced.Seq {
		t.Fatalf("the raced message was announced as %v, want one event with seq %d", news, raced.Seq)
	}
}
