package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"parley"
)

func adminTests() []struct {
	name string
	fn   func(t *testing.T, s parley.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s parley.Store)
	}{
		{"Admin/FirstUserIsAdmin", testFirstUserAdmin},
		{"Admin/FirstUserConcurrent", testFirstUserConcurrent},
		{"Admin/Role", testSetUserRole},
		{"Admin/Disable", testDisableUser},
		{"Admin/ListUsers", testListUsers},
		{"Admin/PasswordReset", testPasswordReset},
		{"Admin/Invitations", testInvitations},
		{"Admin/InvitationUses", testInvitationUses},
		{"Admin/InvitationConcurrent", testInvitationConcurrent},
		{"Admin/Stats", testInstanceStats},
		{"Report/Create", testCreateReport},
		{"Report/Resolve", testResolveReport},
	}
}

func testFirstUserAdmin(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a, b := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	if a.Role != parley.InstanceAdmin || b.Role != parley.InstanceMember {
		t.Fatalf("roles: first %q, second %q", a.Role, b.Role)
	}
	got, err := s.User(ctx, a.ID)
	ok(t, err, "User")
	if got.Role != parley.InstanceAdmin || got.DisabledAt != nil {
		t.Fatalf("stored: %+v", got)
	}
	// A role given is kept, first user or not.
	c := parley.User{Username: "carol", Role: parley.InstanceAdmin}
	ok(t, s.CreateUser(ctx, &c, "h"), "CreateUser(admin)")
	if got, _ := s.User(ctx, c.ID); got.Role != parley.InstanceAdmin {
		t.Fatalf("carol: %q", got.Role)
	}
}

// Of concurrent first sign-ups exactly one becomes admin.
func testFirstUserConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	const n = 8
	users := make([]parley.User, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			users[i] = parley.User{Username: fmt.Sprintf("first%d", i)}
			errs[i] = s.CreateUser(ctx, &users[i], "h")
		})
	}
	wg.Wait()
	admins := 0
	for i := range n {
		ok(t, errs[i], "CreateUser")
		got, err := s.User(ctx, users[i].ID)
		ok(t, err, "User")
		if got.Role != users[i].Role {
			t.Fatalf("%s: stored %q, returned %q", got.Username, got.Role, users[i].Role)
		}
		if got.Role == parley.InstanceAdmin {
			admins++
		}
	}
	if admins != 1 {
		t.Fatalf("%d admins of %d concurrent first users, want 1", admins, n)
	}
}

func testSetUserRole(t *testing.T, s parley.Store) {
	ctx := context.Background()
	MustUser(t, s, "alice")
	b := MustUser(t, s, "bob")
	u, err := s.SetUserRole(ctx, b.ID, parley.InstanceAdmin)
	ok(t, err, "SetUserRole")
	if u.Role != parley.InstanceAdmin || u.ID != b.ID {
		t.Fatalf("SetUserRole: %+v", u)
	}
	u, err = s.SetUserRole(ctx, b.ID, parley.InstanceMember)
	ok(t, err, "SetUserRole(member)")
	if got, _ := s.User(ctx, b.ID); got.Role != parley.InstanceMember || u.Role != parley.InstanceMember {
		t.Fatalf("after demotion: %q", got.Role)
	}
	_, err = s.SetUserRole(ctx, b.ID+100, parley.InstanceAdmin)
	wantCode(t, err, parley.ENOTFOUND, "SetUserRole(unknown)")
}

func testDisableUser(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a, b := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	now := time.Now()
	for i, u := range []parley.User{a, a, b} {
		sess := parley.Session{UserID: u.ID, TokenHash: []byte(fmt.Sprint("tok", i)), CreatedAt: now, LastUsed: now, ExpiresAt: now.Add(time.Hour)}
		ok(t, s.CreateSession(ctx, &sess), "CreateSession")
	}
	u, err := s.SetUserDisabled(ctx, a.ID, new(at(1)))
	ok(t, err, "SetUserDisabled")
	if u.DisabledAt == nil || !u.DisabledAt.Equal(norm(at(1))) || u.DisabledAt.Location() != time.UTC {
		t.Fatalf("DisabledAt = %v, want %v", u.DisabledAt, norm(at(1)))
	}
	if list, _ := s.Sessions(ctx, a.ID, now); len(list) != 0 {
		t.Fatalf("a disabled user keeps %d sessions", len(list))
	}
	if list, _ := s.Sessions(ctx, b.ID, now); len(list) != 1 {
		t.Fatalf("another user's sessions went: %d left", len(list))
	}
	// Disabling again keeps the first time.
	u, err = s.SetUserDisabled(ctx, a.ID, new(at(2)))
	ok(t, err, "SetUserDisabled again")
	if !u.DisabledAt.Equal(norm(at(1))) {
		t.Fatalf("disabled again: %v", u.DisabledAt)
	}
	got, _ := s.User(ctx, a.ID)
	if got.DisabledAt == nil {
		t.Fatal("User shows no DisabledAt")
	}
	u, err = s.SetUserDisabled(ctx, a.ID, nil)
	ok(t, err, "enable")
	if got, _ := s.User(ctx, a.ID); u.DisabledAt != nil || got.DisabledAt != nil {
		t.Fatalf("enabled: %v %v", u.DisabledAt, got.DisabledAt)
	}
	_, err = s.SetUserDisabled(ctx, b.ID+100, new(at(1)))
	wantCode(t, err, parley.ENOTFOUND, "SetUserDisabled(unknown)")
}

func testListUsers(t *testing.T, s parley.Store) {
	ctx := context.Background()
	var all []parley.User
	for _, n := range []string{"alice", "bob", "albert", "carol", "al_x"} {
		all = append(all, MustUser(t, s, n))
	}
	names := func(us []parley.User) string {
		var b bytes.Buffer
		for _, u := range us {
			fmt.Fprint(&b, u.Username, " ")
		}
		return b.String()
	}
	list, err := s.ListUsers(ctx, parley.UserQuery{Limit: 10})
	ok(t, err, "ListUsers")
	if got := names(list); got != "alice bob albert carol al_x " {
		t.Fatalf("all: %s", got)
	}
	if list[0].Role != parley.InstanceAdmin || list[0].Email != "alice@example.com" {
		t.Fatalf("listed user: %+v", list[0])
	}
	list, _ = s.ListUsers(ctx, parley.UserQuery{Prefix: "al", Limit: 10})
	if got := names(list); got != "alice albert al_x " {
		t.Fatalf("prefix al: %s", got)
	}
	list, _ = s.ListUsers(ctx, parley.UserQuery{Prefix: "al_", Limit: 10}) // '_' is no wildcard
	if got := names(list); got != "al_x " {
		t.Fatalf("prefix al_: %s", got)
	}
	list, _ = s.ListUsers(ctx, parley.UserQuery{Prefix: "carol@ex", Limit: 10}) // email
	if got := names(list); got != "carol " {
		t.Fatalf("email prefix: %s", got)
	}
	list, _ = s.ListUsers(ctx, parley.UserQuery{AfterID: all[1].ID, Limit: 2})
	if got := names(list); got != "albert carol " {
		t.Fatalf("page after bob: %s", got)
	}
}

func testPasswordReset(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a, b := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	now := time.Now()
	sess := parley.Session{UserID: a.ID, TokenHash: []byte("t"), CreatedAt: now, LastUsed: now, ExpiresAt: now.Add(time.Hour)}
	ok(t, s.CreateSession(ctx, &sess), "CreateSession")
	ok(t, s.CreatePasswordReset(ctx, a.ID, []byte("reset-1"), at(0), at(60)), "CreatePasswordReset")
	// A second reset replaces the first.
	ok(t, s.CreatePasswordReset(ctx, a.ID, []byte("reset-2"), at(1), at(61)), "CreatePasswordReset again")
	ok(t, s.CreatePasswordReset(ctx, b.ID, []byte("reset-b"), at(1), at(2)), "CreatePasswordReset(bob)")
	wantCode(t, s.CreatePasswordReset(ctx, b.ID+10, []byte("reset-x"), at(1), at(2)), parley.ENOTFOUND, "CreatePasswordReset(unknown)")

	_, err := s.UsePasswordReset(ctx, []byte("reset-1"), "h2", at(5))
	wantCode(t, err, parley.ENOTFOUND, "the replaced reset")
	_, err = s.UsePasswordReset(ctx, []byte("reset-b"), "h2", at(2))
	wantCode(t, err, parley.ENOTFOUND, "an expired reset")
	u, err := s.UsePasswordReset(ctx, []byte("reset-2"), "h2", at(5))
	ok(t, err, "UsePasswordReset")
	if u.ID != a.ID {
		t.Fatalf("reset user %d, want %d", u.ID, a.ID)
	}
	if _, hash, _ := s.UserByLogin(ctx, "alice"); hash != "h2" {
		t.Fatalf("hash %q", hash)
	}
	if list, _ := s.Sessions(ctx, a.ID, now); len(list) != 0 {
		t.Fatalf("%d sessions kept", len(list))
	}
	_, err = s.UsePasswordReset(ctx, []byte("reset-2"), "h3", at(5))
	wantCode(t, err, parley.ENOTFOUND, "a reset used twice")
}

func mustInvitation(t *testing.T, s parley.Store, code string, by int64, maxUses int, expires time.Time) parley.Invitation {
	t.Helper()
	inv := parley.Invitation{Code: code, CreatedBy: by, CreatedAt: at(0), ExpiresAt: expires, MaxUses: maxUses}
	ok(t, s.CreateInvitation(context.Background(), &inv), "CreateInvitation")
	if inv.ID == 0 {
		t.Fatal("CreateInvitation set no ID")
	}
	return inv
}

func testInvitations(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a, b := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	i1 := mustInvitation(t, s, "code-one", a.ID, 3, at(60))
	i2 := mustInvitation(t, s, "code-two", b.ID, 1, at(60))
	i3 := mustInvitation(t, s, "code-cli", 0, 1, at(60))
	dup := parley.Invitation{Code: "code-one", CreatedAt: at(0), ExpiresAt: at(60), MaxUses: 1}
	wantCode(t, s.CreateInvitation(ctx, &dup), parley.ECONFLICT, "CreateInvitation(taken code)")

	list, err := s.Invitations(ctx, 0, 10)
	ok(t, err, "Invitations")
	if len(list) != 3 || list[0].ID != i3.ID || list[2].ID != i1.ID {
		t.Fatalf("all invitations: %+v", list)
	}
	got := list[2]
	if got.Code != "code-one" || got.CreatedBy != a.ID || got.Creator != "alice" || got.MaxUses != 3 || got.Uses != 0 ||
		!got.CreatedAt.Equal(norm(at(0))) || !got.ExpiresAt.Equal(norm(at(60))) || got.RevokedAt != nil {
		t.Fatalf("listed invitation: %+v", got)
	}
	if list[0].CreatedBy != 0 || list[0].Creator != "" {
		t.Fatalf("CLI invitation: %+v", list[0])
	}
	list, _ = s.Invitations(ctx, b.ID, 10)
	if len(list) != 1 || list[0].ID != i2.ID {
		t.Fatalf("bob's invitations: %+v", list)
	}
	inv, err := s.Invitation(ctx, "code-two")
	ok(t, err, "Invitation")
	if inv.ID != i2.ID {
		t.Fatalf("Invitation: %+v", inv)
	}
	_, err = s.Invitation(ctx, "nope")
	wantCode(t, err, parley.ENOTFOUND, "Invitation(unknown)")

	// Only its maker (or anyone, with createdBy 0) revokes it.
	_, err = s.RevokeInvitation(ctx, i1.ID, b.ID, at(5))
	wantCode(t, err, parley.ENOTFOUND, "RevokeInvitation by another")
	inv, err = s.RevokeInvitation(ctx, i1.ID, a.ID, at(5))
	ok(t, err, "RevokeInvitation")
	if inv.RevokedAt == nil || !inv.RevokedAt.Equal(norm(at(5))) || inv.Creator != "alice" {
		t.Fatalf("revoked: %+v", inv)
	}
	inv, err = s.RevokeInvitation(ctx, i1.ID, 0, at(9))
	ok(t, err, "RevokeInvitation again")
	if !inv.RevokedAt.Equal(norm(at(5))) {
		t.Fatalf("revoked again: %v", inv.RevokedAt)
	}
	_, err = s.RevokeInvitation(ctx, i3.ID+100, 0, at(5))
	wantCode(t, err, parley.ENOTFOUND, "RevokeInvitation(unknown)")
	u := parley.User{Username: "carol"}
	wantCode(t, s.CreateInvitedUser(ctx, &u, "h", "code-one", at(6)), parley.EINVALID, "sign-up with a revoked invitation")
}

func testInvitationUses(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a := MustUser(t, s, "alice")
	mustInvitation(t, s, "two-uses", a.ID, 2, at(60))
	signup := func(name, code string, when time.Time) error {
		u := parley.User{Username: name, Email: name + "@example.com"}
		err := s.CreateInvitedUser(ctx, &u, "h", code, when)
		if err == nil && (u.ID == 0 || u.Role != parley.InstanceMember) {
			t.Fatalf("invited user %+v", u)
		}
		return err
	}
	ok(t, signup("bob", "two-uses", at(1)), "first use")
	// A sign-up that fails (taken username) takes no use.
	wantCode(t, signup("bob", "two-uses", at(1)), parley.EUSERNAMETAKEN, "taken username")
	wantCode(t, signup("nobody", "no-such-code", at(1)), parley.EINVALID, "unknown code")
	if _, err := s.UserByUsername(ctx, "nobody"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatal("a refused sign-up stored its user")
	}
	ok(t, signup("carol", "two-uses", at(2)), "second use")
	err := signup("dave", "two-uses", at(3))
	wantCode(t, err, parley.EINVALID, "third use")
	if parley.ErrorField(err) != "invite" {
		t.Fatalf("field %q", parley.ErrorField(err))
	}
	inv, _ := s.Invitation(ctx, "two-uses")
	if inv.Uses != 2 {
		t.Fatalf("uses %d", inv.Uses)
	}
	mustInvitation(t, s, "expiring", a.ID, 5, at(10))
	wantCode(t, signup("erin", "expiring", at(10)), parley.EINVALID, "expired")
	ok(t, signup("erin", "expiring", at(9)), "before expiry")
}

func testInvitationConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a := MustUser(t, s, "alice")
	mustInvitation(t, s, "three", a.ID, 3, at(60))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := parley.User{Username: fmt.Sprintf("guest%d", i)}
			errs[i] = s.CreateInvitedUser(ctx, &u, "h", "three", at(1))
		})
	}
	wg.Wait()
	good := 0
	for _, err := range errs {
		if err == nil {
			good++
		} else {
			wantCode(t, err, parley.EINVALID, "concurrent sign-up")
		}
	}
	if inv, _ := s.Invitation(ctx, "three"); good != 3 || inv.Uses != 3 {
		t.Fatalf("%d sign-ups, %d uses, want 3", good, inv.Uses)
	}
}

func testInstanceStats(t *testing.T, s parley.Store) {
	ctx := context.Background()
	st, err := s.InstanceStats(ctx)
	ok(t, err, "InstanceStats(empty)")
	if st.Users != 0 || st.Messages != 0 || st.DatabaseBytes <= 0 {
		t.Fatalf("empty: %+v", st)
	}
	a, b, c := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	_, err = s.SetUserDisabled(ctx, c.ID, new(at(0)))
	ok(t, err, "disable")
	g := MustGroup(t, s, "g", a, b)
	d := MustDirect(t, s, a, b)
	MustSend(t, s, d.ID, a, "one")
	m := MustSend(t, s, g.ID, b, "two")
	_, err = s.CreateReport(ctx, &parley.Report{ConversationID: g.ID, Seq: m.Seq, ReporterID: a.ID, CreatedAt: at(1)})
	ok(t, err, "CreateReport")
	st, err = s.InstanceStats(ctx)
	ok(t, err, "InstanceStats")
	// The group has its created and joined system messages too.
	want := parley.InstanceStats{Users: 3, Admins: 1, Disabled: 1, Conversations: 2, Groups: 1, Messages: g.LastSeq + 2, OpenReports: 1}
	st.DatabaseBytes = 0
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

func testCreateReport(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a, b, c := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "g", a, b, c)
	m := MustSend(t, s, g.ID, b, "rude words")
	r := parley.Report{ConversationID: g.ID, Seq: m.Seq, ReporterID: c.ID, Reason: "rude", CreatedAt: at(1)}
	created, err := s.CreateReport(ctx, &r)
	ok(t, err, "CreateReport")
	if !created || r.ID == 0 || r.SenderID != b.ID || r.Sender == nil || r.Sender.Username != "bob" || r.Text != "rude words" ||
		r.Reporter == nil || r.Reporter.Username != "carol" || r.Reason != "rude" || !r.CreatedAt.Equal(norm(at(1))) || r.ResolvedAt != nil {
		t.Fatalf("report: created %v %+v", created, r)
	}
	// The same reporter again: the first report.
	again := parley.Report{ConversationID: g.ID, Seq: m.Seq, ReporterID: c.ID, Reason: "other", CreatedAt: at(2)}
	created, err = s.CreateReport(ctx, &again)
	ok(t, err, "CreateReport again")
	if created || again.ID != r.ID || again.Reason != "rude" {
		t.Fatalf("second report: created %v %+v", created, again)
	}
	other := parley.Report{ConversationID: g.ID, Seq: m.Seq, ReporterID: a.ID, CreatedAt: at(3)}
	created, err = s.CreateReport(ctx, &other)
	ok(t, err, "CreateReport by another")
	if !created || other.ID == r.ID {
		t.Fatalf("another reporter: %v %+v", created, other)
	}
	// System messages, deleted ones and missing ones cannot be reported.
	_, err = s.CreateReport(ctx, &parley.Report{ConversationID: g.ID, Seq: 1, ReporterID: c.ID, CreatedAt: at(1)})
	wantCode(t, err, parley.EINVALID, "report of a system message")
	m2 := MustSend(t, s, g.ID, b, "gone")
	_, err = s.DeleteMessage(ctx, g.ID, m2.Seq, b.ID, false, at(2))
	ok(t, err, "DeleteMessage")
	_, err = s.CreateReport(ctx, &parley.Report{ConversationID: g.ID, Seq: m2.Seq, ReporterID: c.ID, CreatedAt: at(1)})
	wantCode(t, err, parley.EINVALID, "report of a deleted message")
	_, err = s.CreateReport(ctx, &parley.Report{ConversationID: g.ID, Seq: m2.Seq + 5, ReporterID: c.ID, CreatedAt: at(1)})
	wantCode(t, err, parley.ENOTFOUND, "report of no message")

	list, err := s.Reports(ctx, true, 10)
	ok(t, err, "Reports")
	if len(list) != 2 || list[0].ID != other.ID || list[1].ID != r.ID {
		t.Fatalf("open reports: %+v", list)
	}
	same(t, "listed report", list[1], r)
	got, err := s.Report(ctx, r.ID)
	ok(t, err, "Report")
	same(t, "Report", got, r)
	_, err = s.Report(ctx, other.ID+10)
	wantCode(t, err, parley.ENOTFOUND, "Report(unknown)")
	if list, _ := s.Reports(ctx, false, 10); len(list) != 0 {
		t.Fatalf("resolved reports: %+v", list)
	}
}

func testResolveReport(t *testing.T, s parley.Store) {
	ctx := context.Background()
	a, b, c := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "g", a, b, c)
	m := MustSend(t, s, g.ID, b, "spam")
	m2 := MustSend(t, s, g.ID, b, "more spam")
	r1 := parley.Report{ConversationID: g.ID, Seq: m.Seq, ReporterID: c.ID, CreatedAt: at(1)}
	r2 := parley.Report{ConversationID: g.ID, Seq: m.Seq, ReporterID: a.ID, CreatedAt: at(1)}
	r3 := parley.Report{ConversationID: g.ID, Seq: m2.Seq, ReporterID: c.ID, CreatedAt: at(1)}
	for _, r := range []*parley.Report{&r1, &r2, &r3} {
		_, err := s.CreateReport(ctx, r)
		ok(t, err, "CreateReport")
	}
	got, err := s.ResolveReport(ctx, r1.ID, a.ID, parley.ReportDeleteMessage, at(5))
	ok(t, err, "ResolveReport")
	if got.ResolvedAt == nil || !got.ResolvedAt.Equal(norm(at(5))) || got.ResolvedBy != a.ID || got.Action != parley.ReportDeleteMessage {
		t.Fatalf("resolved: %+v", got)
	}
	// The other report of the same message went with it.
	if r, _ := s.Report(ctx, r2.ID); r.ResolvedAt == nil || r.Action != parley.ReportDeleteMessage {
		t.Fatalf("the message's other report: %+v", r)
	}
	if list, _ := s.Reports(ctx, true, 10); len(list) != 1 || list[0].ID != r3.ID {
		t.Fatalf("open after resolving: %+v", list)
	}
	if list, _ := s.Reports(ctx, false, 10); len(list) != 2 {
		t.Fatalf("resolved: %+v", list)
	}
	_, err = s.ResolveReport(ctx, r2.ID, a.ID, parley.ReportDismiss, at(6))
	wantCode(t, err, parley.ECONFLICT, "ResolveReport of a resolved one")
	_, err = s.ResolveReport(ctx, r3.ID+10, a.ID, parley.ReportDismiss, at(6))
	wantCode(t, err, parley.ENOTFOUND, "ResolveReport(unknown)")
}
