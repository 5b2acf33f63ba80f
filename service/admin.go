package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
)

// Limits of instance administration (docs/protocol.md, "Limits").
const (
	// InvitationsPerDay is how many invitations a member who is not an
	// admin may create per day (with --invites-by-members).
	InvitationsPerDay = 50
	// ReportsPerHour is how many messages one person may report per hour.
	ReportsPerHour = 20
	// ResetsPerHour is how many password resets one client address may
	// try per hour.
	ResetsPerHour = 20
	// ReportContext is how many messages around a reported one the admin
	// queue shows.
	ReportContext = 5
	// ReportsPage bounds the reports one call lists.
	ReportsPage = 50
	// InvitationsPage bounds the invitations one call lists.
	InvitationsPage = 200
	// InviteCodeMax bounds an invitation code as typed or linked.
	InviteCodeMax = 64
)

func inviteKey(userID int64) string { return "invite:user:" + strconv.FormatInt(userID, 10) }
func reportKey(userID int64) string { return "report:user:" + strconv.FormatInt(userID, 10) }
func resetKey(ip string) string     { return "reset:ip:" + ip }

// Operator is the actor of `parley admin`: an admin that is no account.
var Operator = parley.User{Role: parley.InstanceAdmin, Username: "parley admin"}

var (
	errDisabled = &parley.Error{Code: parley.EFORBIDDEN, Message: "This account has been disabled by an admin of this instance."}
	errNotAdmin = &parley.Error{Code: parley.EFORBIDDEN, Message: "Only an admin of this instance can do that."}
)

func requireAdmin(actor parley.User) error {
	if !actor.IsAdmin() {
		return errNotAdmin
	}
	return nil
}

// SignupPolicy returns the sign-up policy (parley.SignupOpen, ...).
func (s *Service) SignupPolicy() string { return s.cfg.Signup }

// InvitesByMembers reports whether every member may create invitations.
func (s *Service) InvitesByMembers() bool { return s.cfg.InvitesByMembers }

// signupAllowed checks a sign-up against the policy before any work is
// done for it.
func (s *Service) signupAllowed(invite string) error {
	switch s.cfg.Signup {
	case parley.SignupInvite:
		if invite == "" {
			return &parley.Error{Code: parley.EFORBIDDEN, Field: "invite", Message: "Sign-up on this instance needs an invitation link; ask someone who is here for one."}
		} else if len(invite) > InviteCodeMax {
			return parley.FieldErrorf("invite", "This invitation is not valid: it may have expired, been used up or revoked.")
		}
	case parley.SignupClosed:
		return &parley.Error{Code: parley.EFORBIDDEN, Message: "Sign-up is closed on this instance; an admin can create your account."}
	}
	return nil
}

// createUser stores a sign-up, taking a use of its invitation under the
// invite policy.
func (s *Service) createUser(ctx context.Context, u *parley.User, hash, invite string) error {
	if s.cfg.Signup == parley.SignupInvite {
		return s.store.CreateInvitedUser(ctx, u, hash, invite, s.Now())
	}
	return s.store.CreateUser(ctx, u, hash)
}

// randomCode returns n random bytes in base64url.
func randomCode(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hash computes a password hash in a hashing slot.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.acquireHash(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return hashPassword(password, s.cfg.Hash)
}

// revokeAll ends every session of a user on every node.
func (s *Service) revokeAll(ctx context.Context, userID int64) {
	s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventRevoke, UserID: userID, All: true})
}

// AdminUsers lists users for an admin: those whose username or email
// starts with prefix, in the order they signed up, after afterID.
func (s *Service) AdminUsers(ctx context.Context, actor parley.User, prefix string, afterID int64, limit int) ([]parley.User, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = parley.PageSizeDefault
	}
	if limit < 1 || limit > parley.PageSizeMax {
		return nil, parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.PageSizeMax)
	}
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if len(prefix) > parley.EmailMax {
		return []parley.User{}, nil
	}
	return s.store.ListUsers(ctx, parley.UserQuery{Prefix: prefix, AfterID: afterID, Limit: limit})
}

// UserByName returns a user by username, for admins.
func (s *Service) UserByName(ctx context.Context, actor parley.User, username string) (parley.User, error) {
	if err := requireAdmin(actor); err != nil {
		return parley.User{}, err
	}
	return s.store.UserByUsername(ctx, parley.NormalizeUsername(username))
}

// CreateAccount creates an account for someone, whatever the sign-up
// policy: an admin's doing. Without a password, the account gets a random
// one nobody knows, and the returned token is a one-time link's to set it
// (see ResetLink).
func (s *Service) CreateAccount(ctx context.Context, actor parley.User, username, email, password string, admin bool) (parley.User, string, error) {
	if err := requireAdmin(actor); err != nil {
		return parley.User{}, "", err
	}
	username = parley.NormalizeUsername(username)
	email = strings.ToLower(strings.TrimSpace(email))
	if err := parley.ValidateUsername(username); err != nil {
		return parley.User{}, "", err
	}
	if email != "" {
		if err := parley.ValidateEmail(email); err != nil {
			return parley.User{}, "", err
		}
	}
	link := password == ""
	if link {
		var err error
		if password, err = randomCode(24); err != nil {
			return parley.User{}, "", err
		}
	} else if err := parley.ValidatePassword(password); err != nil {
		return parley.User{}, "", err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return parley.User{}, "", err
	}
	u := parley.User{Username: username, Email: email, DisplayName: username, AcceptingMessages: true, Role: parley.InstanceMember}
	if admin {
		u.Role = parley.InstanceAdmin
	}
	if err := s.store.CreateUser(ctx, &u, hash); err != nil {
		return parley.User{}, "", err
	}
	if !link {
		return u, "", nil
	}
	token, _, err := s.ResetLink(ctx, actor, u.ID)
	return u, token, err
}

// SetAdmin makes a user an admin of the instance, or a member. An admin
// cannot take their own role: another admin (or `parley admin`) can.
func (s *Service) SetAdmin(ctx context.Context, actor parley.User, userID int64, admin bool) (parley.User, error) {
	if err := requireAdmin(actor); err != nil {
		return parley.User{}, err
	}
	role := parley.InstanceMember
	if admin {
		role = parley.InstanceAdmin
	} else if userID == actor.ID {
		return parley.User{}, parley.FieldErrorf("admin", "You cannot take your own admin role; another admin can.")
	}
	return s.store.SetUserRole(ctx, userID, role)
}

// SetDisabled disables or enables an account. Disabling ends every
// session of the account at once, on every node: its stored sessions go,
// and each node closes its WebSockets (4001). A disabled account cannot
// log in. Admins cannot disable themselves.
func (s *Service) SetDisabled(ctx context.Context, actor parley.User, userID int64, disabled bool) (parley.User, error) {
	if err := requireAdmin(actor); err != nil {
		return parley.User{}, err
	}
	var at *time.Time
	if disabled {
		if userID == actor.ID {
			return parley.User{}, parley.FieldErrorf("disabled", "You cannot disable your own account.")
		}
		at = new(s.Now())
	}
	u, err := s.store.SetUserDisabled(ctx, userID, at)
	if err != nil {
		return parley.User{}, err
	}
	if disabled {
		s.revokeAll(ctx, userID)
	}
	return u, nil
}

// AdminDeleteAccount deletes someone's account as RemoveAccount does (their
// messages stay, from "Deleted account"). Admins cannot delete their own
// account here (they can from their settings).
func (s *Service) AdminDeleteAccount(ctx context.Context, actor parley.User, userID int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if userID == actor.ID {
		return parley.Errorf(parley.EINVALID, "Delete your own account from your settings.")
	}
	return s.RemoveAccount(ctx, userID)
}

// ResetLink makes a one-time password reset for a user, valid for
// parley.PasswordResetTTL, and returns its token (shown once: only its
// hash is stored) and expiry. A newer link replaces an older one.
func (s *Service) ResetLink(ctx context.Context, actor parley.User, userID int64) (string, time.Time, error) {
	if err := requireAdmin(actor); err != nil {
		return "", time.Time{}, err
	}
	token, hashed, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.Now()
	exp := now.Add(parley.PasswordResetTTL)
	if err := s.store.CreatePasswordReset(ctx, userID, hashed, now, exp); err != nil {
		return "", time.Time{}, err
	}
	return token, exp, nil
}

// SetPassword sets a user's password (`parley admin user reset-password
// --password-stdin`) and ends all their sessions.
func (s *Service) SetPassword(ctx context.Context, actor parley.User, userID int64, password string) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if err := parley.ValidatePassword(password); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	if _, err := s.store.SetPassword(ctx, userID, hash, 0); err != nil {
		return err
	}
	s.revokeAll(ctx, userID)
	return nil
}

// ResetPassword sets a password with a reset link's token, once, and ends
// every session of the account. Tries are limited per client address.
func (s *Service) ResetPassword(ctx context.Context, token, password, ip string) (parley.User, error) {
	bad := parley.FieldErrorf("token", "This link is not valid any more; ask an admin for a new one.")
	if err := parley.ValidatePassword(password); err != nil {
		return parley.User{}, err
	}
	if token == "" || len(token) > 128 {
		return parley.User{}, bad
	}
	now := s.Now()
	if err := s.reserve(ctx, now, time.Hour, "Too many password resets from your address; try again later.",
		parley.AttemptLimit{Key: resetKey(ip), Max: ResetsPerHour, Since: now.Add(-time.Hour)}); err != nil {
		return parley.User{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return parley.User{}, err
	}
	u, err := s.store.UsePasswordReset(ctx, hashToken(token), hash, now)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.User{}, bad
	} else if err != nil {
		return parley.User{}, err
	}
	s.revokeAll(ctx, u.ID)
	return u, nil
}

// mayInvite reports whether actor may create invitations.
func (s *Service) mayInvite(actor parley.User) error {
	if actor.IsAdmin() || (s.cfg.InvitesByMembers && actor.ID != 0) {
		return nil
	}
	return &parley.Error{Code: parley.EFORBIDDEN, Message: "Only an admin can invite people to this instance."}
}

// CreateInvitation makes an invitation for maxUses sign-ups (0: one)
// until ttl from now (0: parley.InvitationTTLDefault). Admins may, and
// every member with Config.InvitesByMembers (at most InvitationsPerDay).
func (s *Service) CreateInvitation(ctx context.Context, actor parley.User, maxUses int, ttl time.Duration) (parley.Invitation, error) {
	if err := s.mayInvite(actor); err != nil {
		return parley.Invitation{}, err
	}
	if maxUses == 0 {
		maxUses = 1
	}
	if maxUses < 1 || maxUses > parley.InvitationUsesMax {
		return parley.Invitation{}, parley.FieldErrorf("max_uses", "An invitation is for 1 to %d sign-ups.", parley.InvitationUsesMax)
	}
	if ttl == 0 {
		ttl = parley.InvitationTTLDefault
	}
	if ttl < time.Hour || ttl > parley.InvitationTTLMax {
		return parley.Invitation{}, parley.FieldErrorf("expires_in_hours", "An invitation lasts 1 hour to %d days.", int(parley.InvitationTTLMax.Hours()/24))
	}
	now := s.Now()
	if !actor.IsAdmin() {
		if err := s.reserve(ctx, now, 24*time.Hour, "Too many invitations today; try again tomorrow.",
			parley.AttemptLimit{Key: inviteKey(actor.ID), Max: InvitationsPerDay, Since: now.Add(-24 * time.Hour)}); err != nil {
			return parley.Invitation{}, err
		}
	}
	code, err := randomCode(16)
	if err != nil {
		return parley.Invitation{}, err
	}
	inv := parley.Invitation{Code: code, CreatedBy: actor.ID, Creator: actor.Username, CreatedAt: now, ExpiresAt: now.Add(ttl), MaxUses: maxUses}
	if actor.ID == 0 {
		inv.Creator = ""
	}
	if err := s.store.CreateInvitation(ctx, &inv); err != nil {
		return parley.Invitation{}, err
	}
	return inv, nil
}

// Invitations lists invitations, newest first: all of them for an admin,
// a member's own for a member (with Config.InvitesByMembers).
func (s *Service) Invitations(ctx context.Context, actor parley.User) ([]parley.Invitation, error) {
	if err := s.mayInvite(actor); err != nil {
		return nil, err
	}
	by := actor.ID
	if actor.IsAdmin() {
		by = 0
	}
	return s.store.Invitations(ctx, by, InvitationsPage)
}

// RevokeInvitation revokes an invitation: any for an admin, their own for
// a member.
func (s *Service) RevokeInvitation(ctx context.Context, actor parley.User, id int64) (parley.Invitation, error) {
	if err := s.mayInvite(actor); err != nil {
		return parley.Invitation{}, err
	}
	by := actor.ID
	if actor.IsAdmin() {
		by = 0
	}
	return s.store.RevokeInvitation(ctx, id, by, s.Now())
}

// Stats returns the instance's figures.
func (s *Service) Stats(ctx context.Context, actor parley.User) (parley.InstanceStats, error) {
	if err := requireAdmin(actor); err != nil {
		return parley.InstanceStats{}, err
	}
	return s.store.InstanceStats(ctx)
}

// ReportMessage reports a message of a conversation userID is a member
// of to the instance's admins, with a reason (at most
// parley.ReportReasonMax characters, may be empty). A second report of the
// same message by the same person returns the first (created false).
// ReportsPerHour per person.
func (s *Service) ReportMessage(ctx context.Context, userID, conversationID, seq int64, reason string) (parley.Report, bool, error) {
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > parley.ReportReasonMax {
		return parley.Report{}, false, parley.FieldErrorf("reason", "A reason is at most %d characters.", parley.ReportReasonMax)
	}
	if _, err := s.member(ctx, conversationID, userID); err != nil {
		return parley.Report{}, false, err
	}
	if seq <= 0 {
		return parley.Report{}, false, parley.ErrNotFound
	}
	now := s.Now()
	if err := s.reserve(ctx, now, time.Hour, "Too many reports; try again later.",
		parley.AttemptLimit{Key: reportKey(userID), Max: ReportsPerHour, Since: now.Add(-time.Hour)}); err != nil {
		return parley.Report{}, false, err
	}
	r := parley.Report{ConversationID: conversationID, Seq: seq, ReporterID: userID, Reason: reason, CreatedAt: now}
	created, err := s.store.CreateReport(ctx, &r)
	if err != nil || !created {
		s.forget(ctx, now, reportKey(userID))
	}
	return r, created, err
}

// Reports lists reports for the admin queue, newest first (open or
// resolved), each with the messages around the reported one.
func (s *Service) Reports(ctx context.Context, actor parley.User, open bool) ([]parley.Report, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	list, err := s.store.Reports(ctx, open, ReportsPage)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Context, err = s.reportContext(ctx, list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func (s *Service) reportContext(ctx context.Context, r parley.Report) ([]parley.Message, error) {
	msgs, err := s.store.Messages(ctx, r.ConversationID, parley.MessageQuery{AroundSeq: r.Seq, Limit: ReportContext})
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return []parley.Message{}, nil
	}
	return msgs, err
}

// ResolveReport does what an admin decided about a report (and every
// other open report of the same message): delete the message, disable its
// sender, or dismiss the report. ECONFLICT if another admin dealt with it
// first.
func (s *Service) ResolveReport(ctx context.Context, actor parley.User, id int64, action string) (parley.Report, error) {
	if err := requireAdmin(actor); err != nil {
		return parley.Report{}, err
	}
	r, err := s.store.Report(ctx, id)
	if err != nil {
		return parley.Report{}, err
	}
	if r.ResolvedAt != nil {
		return parley.Report{}, parley.Errorf(parley.ECONFLICT, "This report has been dealt with already.")
	}
	switch action {
	case parley.ReportDeleteMessage:
		m, err := s.store.DeleteMessage(ctx, r.ConversationID, r.Seq, actor.ID, true, s.Now())
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return parley.Report{}, err
		} else if err == nil {
			if s.files != nil {
				s.files.wake()
			}
			s.publishMessage(ctx, m, "deleted")
		}
	case parley.ReportDisableUser:
		if r.SenderID == 0 {
			return parley.Report{}, parley.FieldErrorf("action", "The message's sender has no account any more.")
		}
		if _, err := s.SetDisabled(ctx, actor, r.SenderID, true); err != nil {
			return parley.Report{}, err
		}
	case parley.ReportDismiss:
	default:
		return parley.Report{}, parley.FieldErrorf("action", "action must be delete_message, disable_user or dismiss.")
	}
	r, err = s.store.ResolveReport(ctx, id, actor.ID, action, s.Now())
	if err != nil {
		return parley.Report{}, err
	}
	r.Context, err = s.reportContext(ctx, r)
	return r, err
}
