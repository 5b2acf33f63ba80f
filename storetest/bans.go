package storetest

import (
	"context"
	"testing"

	"parley"
)

// testBans: a removal by an admin is a ban that stops joining by code
// until an admin adds the person back; leaving is not.
func testBans(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "Club", alice, bob, carol)

	_, err := s.RemoveMember(ctx, g.ID, bob.ID, alice.ID, at(1))
	ok(t, err, "RemoveMember(bob by alice)")
	b, err := s.Ban(ctx, g.ID, bob.ID)
	ok(t, err, "Ban(bob)")
	if b.By != alice.ID || b.UserID != bob.ID || b.ConversationID != g.ID {
		t.Fatalf("Ban = %+v, want bob banned by alice", b)
	}
	sameTime(t, "ban time", b.At, at(1))
	_, _, _, err = s.AddMember(ctx, g.ID, bob.ID, 100, at(2))
	wantCode(t, err, parley.EFORBIDDEN, "AddMember(banned bob)")
	if _, err := s.Member(ctx, g.ID, bob.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("banned bob is a member: %v", err)
	}

	// Leaving is no ban.
	_, err = s.RemoveMember(ctx, g.ID, carol.ID, carol.ID, at(3))
	ok(t, err, "RemoveMember(carol leaves)")
	_, err = s.Ban(ctx, g.ID, carol.ID)
	wantCode(t, err, parley.ENOTFOUND, "Ban(carol, who left)")
	_, added, _, err := s.AddMember(ctx, g.ID, carol.ID, 100, at(4))
	ok(t, err, "AddMember(carol rejoins)")
	if !added {
		t.Fatal("carol was not added back")
	}

	// An admin adds bob back: the ban goes, a SysAdded message says who.
	m, added, sys, err := s.AddMemberBy(ctx, g.ID, bob.ID, alice.ID, 100, at(5))
	ok(t, err, "AddMemberBy(bob)")
	if !added || m.UserID != bob.ID || m.Role != parley.RoleMember {
		t.Fatalf("AddMemberBy = %+v, added %v", m, added)
	}
	wantSystem(t, s, sys, parley.SysAdded, alice)
	if sys.System.TargetID != bob.ID {
		t.Fatalf("SysAdded target %d, want bob %d", sys.System.TargetID, bob.ID)
	}
	_, err = s.Ban(ctx, g.ID, bob.ID)
	wantCode(t, err, parley.ENOTFOUND, "Ban(bob) after being added back")
	if _, added, _, err := s.AddMemberBy(ctx, g.ID, bob.ID, alice.ID, 100, at(6)); err != nil || added {
		t.Fatalf("AddMemberBy(a member) = added %v, %v", added, err)
	}
	_, _, _, err = s.AddMemberBy(ctx, g.ID, 1<<40, alice.ID, 100, at(7))
	wantCode(t, err, parley.ENOTFOUND, "AddMemberBy(no such user)")
	_, _, _, err = s.AddMemberBy(ctx, 1<<40, bob.ID, alice.ID, 100, at(7))
	wantCode(t, err, parley.ENOTFOUND, "AddMemberBy(no such group)")

	// The member limit holds for admins too.
	dave := MustUser(t, s, "dave")
	_, err = s.RemoveMember(ctx, g.ID, carol.ID, alice.ID, at(8))
	ok(t, err, "RemoveMember(carol by alice)")
	_, _, _, err = s.AddMemberBy(ctx, g.ID, dave.ID, alice.ID, 2, at(9))
	wantCode(t, err, parley.EGROUPFULL, "AddMemberBy(full group)")
}
