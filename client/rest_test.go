package client

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"parley"
)

// wantError checks that err is an *Error with the status and code.
func wantError(t testing.TB, what string, err error, status int, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: err = %v, want *Error %d %s", what, err, status, code)
	}
	if e.Status != status || e.Code != code || e.Message == "" {
		t.Fatalf("%s: err = %+v, want %d %s with a message", what, e, status, code)
	}
	return e
}

func TestREST(t *testing.T) {
	srv := startServer(t)
	ctx := ctxT(t, 30*time.Second)

	f, err := New(srv.URL).Features(ctx)
	if err != nil {
		t.Fatalf("features: %v (%+v)", err, f)
	}

	alice, au := newUser(t, srv.URL, "alice")
	bob, bu := newUser(t, srv.URL, "bob")
	if au.ID == 0 || au.Email == "" || alice.Token() == "" || alice.SessionID() == 0 {
		t.Fatalf("alice %+v token %q session %d", au, alice.Token(), alice.SessionID())
	}

	// Accounts and their errors.
	anon := New(srv.URL)
	_, err = anon.Signup(ctx, au.Username, "other@example.com", "password-123")
	wantError(t, "taken username", err, http.StatusConflict, parley.EUSERNAMETAKEN)
	_, err = anon.Signup(ctx, "x", "x@example.com", "password-123")
	if e := wantError(t, "short username", err, http.StatusBadRequest, parley.EINVALID); e.Field != "username" {
		t.Errorf("short username: field %q", e.Field)
	}
	_, err = anon.Login(ctx, au.Username, "wrong-password")
	wantError(t, "bad password", err, http.StatusUnauthorized, parley.EBADCREDENTIALS)
	_, err = anon.Me(ctx)
	wantError(t, "no token", err, http.StatusUnauthorized, parley.EUNAUTHORIZED)
	if ErrorCode(err) != parley.EUNAUTHORIZED {
		t.Errorf("ErrorCode = %q", ErrorCode(err))
	}

	me, err := alice.Me(ctx)
	if err != nil || me.ID != au.ID {
		t.Fatalf("me: %+v %v", me, err)
	}
	name := "Alice A."
	me, err = alice.UpdateMe(ctx, ProfileUpdate{DisplayName: &name})
	if err != nil || me.DisplayName != name || !me.AcceptingMessages {
		t.Fatalf("update me: %+v %v", me, err)
	}
	users, err := bob.SearchUsers(ctx, au.Username, 5)
	if err != nil || len(users) != 1 || users[0].ID != au.ID || users[0].Email != "" {
		t.Fatalf("search: %+v %v", users, err)
	}
	if u, err := bob.User(ctx, au.Username); err != nil || u.DisplayName != name {
		t.Fatalf("user: %+v %v", u, err)
	}
	_, err = bob.User(ctx, "nobody-here")
	wantError(t, "unknown user", err, http.StatusNotFound, parley.ENOTFOUND)

	// Sessions.
	other := device(t, srv.URL, au)
	sessions, err := alice.Sessions(ctx)
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions: %+v %v", sessions, err)
	}
	var current int
	for _, s := range sessions {
		if s.Current {
			current++
			if s.ID != alice.SessionID() {
				t.Errorf("current session %d, want %d", s.ID, alice.SessionID())
			}
		}
	}
	if current != 1 {
		t.Errorf("%d current sessions", current)
	}
	if n, err := alice.LogoutOthers(ctx); err != nil || n != 1 {
		t.Fatalf("logout others: %d %v", n, err)
	}
	_, err = other.Me(ctx)
	wantError(t, "revoked session", err, http.StatusUnauthorized, parley.EUNAUTHORIZED)
	third := device(t, srv.URL, au)
	if err := alice.DeleteSession(ctx, third.SessionID()); err != nil {
		t.Fatalf("delete session: %v", err)
	}
	err = alice.DeleteSession(ctx, third.SessionID())
	wantError(t, "deleted session", err, http.StatusNotFound, parley.ENOTFOUND)

	// Groups.
	g, err := alice.CreateGroup(ctx, "Climbing", "climb-2026")
	if err != nil || g.Kind != parley.KindGroup || g.Name != "Climbing" || g.Code != "climb-2026" || g.ID == 0 {
		t.Fatalf("create group: %+v %v", g, err)
	}
	_, err = alice.CreateGroup(ctx, "", "")
	if e := wantError(t, "empty group name", err, http.StatusBadRequest, parley.EINVALID); e.Field != "name" {
		t.Errorf("empty name: field %q", e.Field)
	}
	_, err = bob.CreateGroup(ctx, "Other", "CLIMB-2026")
	wantError(t, "taken code", err, http.StatusConflict, parley.ECODETAKEN)
	_, _, err = bob.JoinGroup(ctx, "no-such-code")
	wantError(t, "unknown code", err, http.StatusNotFound, parley.EGROUPNOTFOUND)
	_, err = bob.Conversation(ctx, g.ID)
	wantError(t, "not a member", err, http.StatusNotFound, parley.ENOTFOUND)
	if jg, joined, err := bob.JoinGroup(ctx, "climb-2026"); err != nil || !joined || jg.ID != g.ID {
		t.Fatalf("join: %+v %v %v", jg, joined, err)
	}
	if _, joined, err := bob.JoinGroup(ctx, "climb-2026"); err != nil || joined {
		t.Fatalf("join again: %v %v", joined, err)
	}
	_, err = bob.Rename(ctx, g.ID, "Mine")
	wantError(t, "rename by member", err, http.StatusForbidden, parley.EFORBIDDEN)
	if rg, err := alice.Rename(ctx, g.ID, "Bouldering"); err != nil || rg.Name != "Bouldering" {
		t.Fatalf("rename: %+v %v", rg, err)
	}
	if cg, err := alice.SetCode(ctx, g.ID, ""); err != nil || cg.Code == "" || cg.Code == "climb-2026" {
		t.Fatalf("new code: %+v %v", cg, err)
	}
	if m, err := alice.SetRole(ctx, g.ID, bu.ID, parley.RoleAdmin); err != nil || m.Role != parley.RoleAdmin {
		t.Fatalf("set role: %+v %v", m, err)
	}
	members, err := bob.Members(ctx, g.ID)
	if err != nil || len(members) != 2 {
		t.Fatalf("members: %+v %v", members, err)
	}
	if err := bob.Leave(ctx, g.ID); err != nil {
		t.Fatalf("leave: %v", err)
	}
	err = alice.RemoveMember(ctx, g.ID, bu.ID)
	wantError(t, "remove a non-member", err, http.StatusNotFound, parley.ENOTFOUND)

	// Direct conversations and messages.
	d, created, err := alice.Direct(ctx, bu.Username)
	if err != nil || !created || d.Kind != parley.KindDirect || d.Peer == nil || d.Peer.ID != bu.ID {
		t.Fatalf("direct: %+v %v %v", d, created, err)
	}
	if d2, created, err := bob.Direct(ctx, au.Username); err != nil || created || d2.ID != d.ID {
		t.Fatalf("direct again: %+v %v %v", d2, created, err)
	}
	_, _, err = alice.Direct(ctx, au.Username)
	wantError(t, "direct with yourself", err, http.StatusBadRequest, parley.EINVALID)

	first, created, err := alice.Send(ctx, d.ID, "c-1", "hello")
	if err != nil || !created || first.Seq == 0 || first.Text != "hello" || first.ClientMsgID != "c-1" {
		t.Fatalf("send: %+v %v %v", first, created, err)
	}
	again, created, err := alice.Send(ctx, d.ID, "c-1", "hello")
	if err != nil || created || again.Seq != first.Seq || again.Text != "hello" {
		t.Fatalf("resend: %+v %v %v", again, created, err)
	}
	_, _, err = alice.Send(ctx, d.ID, "c-1", "hello again")
	wantError(t, "resend with other text", err, http.StatusConflict, parley.ECLIENTMSGID)
	_, _, err = alice.Send(ctx, d.ID, "c-2", "   ")
	wantError(t, "blank text", err, http.StatusBadRequest, parley.EINVALID)
	for i := range 4 {
		if _, _, err := bob.Send(ctx, d.ID, NewClientMsgID(), "msg "+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	page, more, err := alice.History(ctx, d.ID, parley.MessageQuery{Limit: 2})
	if err != nil || len(page) != 2 || !more || page[0].Seq != first.Seq {
		t.Fatalf("history: %+v %v %v", page, more, err)
	}
	last := first.Seq + 4
	page, more, err = alice.History(ctx, d.ID, parley.MessageQuery{BeforeSeq: last + 1, Limit: 3})
	if err != nil || len(page) != 3 || !more || page[2].Seq != last || page[0].Seq != last-2 {
		t.Fatalf("history before: %+v %v %v", page, more, err)
	}
	_, _, err = alice.History(ctx, d.ID, parley.MessageQuery{Limit: 1000})
	wantError(t, "page too large", err, http.StatusBadRequest, parley.EINVALID)

	ed, err := alice.Edit(ctx, d.ID, first.Seq, "hello, edited")
	if err != nil || ed.Text != "hello, edited" || ed.EditedAt == nil || ed.Mod <= first.Mod {
		t.Fatalf("edit: %+v %v", ed, err)
	}
	_, err = bob.Edit(ctx, d.ID, first.Seq, "not mine")
	wantError(t, "edit another's message", err, http.StatusForbidden, parley.EFORBIDDEN)
	del, err := alice.Delete(ctx, d.ID, first.Seq)
	if err != nil || del.DeletedAt == nil || del.Text != "" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	marks, err := bob.MarkRead(ctx, d.ID, last)
	if err != nil || marks.ReadSeq != last || marks.DeliveredSeq != last {
		t.Fatalf("read: %+v %v", marks, err)
	}
	if marks, err := bob.MarkRead(ctx, d.ID, 1); err != nil || marks.ReadSeq != last {
		t.Fatalf("read backwards: %+v %v", marks, err)
	}
	convs, err := bob.Conversations(ctx)
	if err != nil || len(convs) != 1 || convs[0].ID != d.ID || convs[0].Unread != 0 || convs[0].LastSeq != last {
		t.Fatalf("conversations: %+v %v", convs, err)
	}

	if err := alice.Logout(ctx); err != nil || alice.Token() != "" {
		t.Fatalf("logout: %v, token %q", err, alice.Token())
	}
	_, err = alice.Me(ctx)
	wantError(t, "after logout", err, http.StatusUnauthorized, parley.EUNAUTHORIZED)
}

func TestErrorFromNonJSONAnswer(t *testing.T) {
	c := New("http://127.0.0.1:1") // nothing listens on port 1
	if _, err := c.Me(ctxT(t, 5*time.Second)); err == nil || ErrorCode(err) != "" {
		t.Fatalf("err = %v", err)
	}
	e := (&Error{Status: 429, Code: "rate_limited", Message: "slow down", Field: "x"}).Error()
	if e != "parley: 429 rate_limited (x): slow down" {
		t.Fatalf("Error() = %q", e)
	}
}
