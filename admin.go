package parley

import (
	"context"
	"time"
)

// Instance roles (User.Role). The first account of an empty instance is
// an admin; every later one a member, until an admin makes them admin.
const (
	InstanceAdmin  = "admin"
	InstanceMember = "member"
)

// Sign-up policies (serve's --signup): who may create an account.
const (
	SignupOpen   = "open"   // anyone
	SignupInvite = "invite" // whoever holds a valid invitation
	SignupClosed = "closed" // only admins (the admin page, `parley admin user create`)
)

// ValidateSignupPolicy checks a sign-up policy's name.
func ValidateSignupPolicy(p string) error {
	switch p {
	case SignupOpen, SignupInvite, SignupClosed:
		return nil
	}
	return FieldErrorf("signup", "The sign-up policy must be open, invite or closed.")
}

// Limits of the administration side. docs/protocol.md lists each.
const (
	InvitationUsesMax    = 1000
	InvitationTTLDefault = 7 * 24 * time.Hour
	InvitationTTLMax     = 90 * 24 * time.Hour
	ReportReasonMax      = 500 // characters
	PasswordResetTTL     = 24 * time.Hour
)

// Invitation lets people sign up while the policy is SignupInvite: each
// sign-up with its code takes one of MaxUses, until ExpiresAt or until it
// is revoked.
type Invitation struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	CreatedBy int64     `json:"created_by,omitempty"` // 0: made by `parley admin`, or its maker's account is gone
	Creator   string    `json:"creator,omitempty"`    // the maker's username
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	// RevokedAt is set once an admin (or its maker) revoked it.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Usable reports whether a sign-up at now may use the invitation.
func (i Invitation) Usable(now time.Time) bool {
	return i.RevokedAt == nil && now.Before(i.ExpiresAt) && i.Uses < i.MaxUses
}

// Report actions (Report.Action): what an admin did about a report.
const (
	ReportDeleteMessage = "delete_message"
	ReportDisableUser   = "disable_user"
	ReportDismiss       = "dismiss"
)

// Report is a member's report of a message to the instance's admins.
// Text is the message's text when it was reported.
type Report struct {
	ID             int64      `json:"id"`
	ConversationID int64      `json:"conversation_id"`
	Seq            int64      `json:"seq"`
	SenderID       int64      `json:"sender_id,omitempty"`
	Sender         *UserRef   `json:"sender,omitempty"`
	ReporterID     int64      `json:"reporter_id,omitempty"`
	Reporter       *UserRef   `json:"reporter,omitempty"`
	Reason         string     `json:"reason"`
	Text           string     `json:"text"`
	CreatedAt      time.Time  `json:"created_at"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy     int64      `json:"resolved_by,omitempty"`
	Action         string     `json:"action,omitempty"`
	// Context is the conversation around the message, filled by the
	// service for the admin queue.
	Context []Message `json:"context,omitempty"`
}

// UserQuery selects a page of users for admins: those whose username or
// email starts with Prefix (all when empty), by id, after AfterID.
type UserQuery struct {
	Prefix  string
	AfterID int64
	Limit   int
}

// InstanceStats are an instance's figures for its admins.
type InstanceStats struct {
	Users         int64 `json:"users"`
	Admins        int64 `json:"admins"`
	Disabled      int64 `json:"disabled"`
	Conversations int64 `json:"conversations"`
	Groups        int64 `json:"groups"`
	// Messages counts history entries, system messages included.
	Messages int64 `json:"messages"`
	// OpenReports counts reports no admin has acted on.
	OpenReports int64 `json:"open_reports"`
	// DatabaseBytes is the size of the database (SQLite: its file and
	// write-ahead log; PostgreSQL: pg_database_size).
	DatabaseBytes int64 `json:"database_bytes"`
}

// AdminStore keeps what instance administration needs: roles, disabled
// accounts, invitations, password reset links and the instance's figures.
type AdminStore interface {
	// CreateInvitedUser is CreateUser that also takes one use of the
	// invitation with that code, in the same transaction: EINVALID (field
	// "invite") when there is no such invitation or it is not Usable at
	// now, and then nothing is stored. Concurrent sign-ups never take more
	// than its MaxUses.
	CreateInvitedUser(ctx context.Context, u *User, passwordHash, code string, now time.Time) error
	// ListUsers returns a page of users (with Role, DisabledAt, LastSeen)
	// in id order.
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)
	// SetUserRole sets a user's instance role (InstanceAdmin or
	// InstanceMember) and returns the user; ENOTFOUND if there is none.
	SetUserRole(ctx context.Context, id int64, role string) (User, error)
	// SetUserDisabled disables (at non-nil) or enables (nil) an account
	// and returns the user. Disabling deletes all its sessions in the same
	// transaction; disabling a disabled account keeps its first time.
	// ENOTFOUND if there is no such user.
	SetUserDisabled(ctx context.Context, id int64, at *time.Time) (User, error)
	// CreatePasswordReset stores a one-time password reset for userID
	// (only the token's hash), replacing any earlier one of theirs.
	// ENOTFOUND if there is no such user.
	CreatePasswordReset(ctx context.Context, userID int64, tokenHash []byte, now, expiresAt time.Time) error
	// UsePasswordReset sets the password of the reset's user, deletes the
	// reset and all the user's sessions, in one transaction, and returns
	// the user. ENOTFOUND when there is no such reset or it expired at now.
	UsePasswordReset(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (User, error)

	// CreateInvitation stores inv and sets its ID. ECONFLICT if the code
	// is taken.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// Invitations lists invitations, newest first, at most limit: all of
	// them when createdBy is 0, else those createdBy made.
	Invitations(ctx context.Context, createdBy int64, limit int) ([]Invitation, error)
	// Invitation returns an invitation by code; ENOTFOUND if none.
	Invitation(ctx context.Context, code string) (Invitation, error)
	// RevokeInvitation revokes an invitation (once: a revoked one keeps its
	// time) and returns it. With createdBy not 0, only one that createdBy
	// made. ENOTFOUND otherwise.
	RevokeInvitation(ctx context.Context, id, createdBy int64, now time.Time) (Invitation, error)

	// InstanceStats counts the instance's users, conversations, messages
	// and open reports, and measures the database.
	InstanceStats(ctx context.Context) (InstanceStats, error)
}

// ReportStore keeps reports of messages to the instance's admins.
type ReportStore interface {
	// CreateReport stores a report of a text message that is not deleted
	// (EINVALID otherwise; ENOTFOUND if there is no such message), with
	// the message's sender and text, and sets r.ID, SenderID, Text. One
	// report per reporter and message: a second returns the first and
	// created=false.
	CreateReport(ctx context.Context, r *Report) (created bool, err error)
	// Reports lists reports, newest first, at most limit: the open ones
	// (not resolved) when open, else the resolved ones.
	Reports(ctx context.Context, open bool, limit int) ([]Report, error)
	// Report returns one report; ENOTFOUND if none.
	Report(ctx context.Context, id int64) (Report, error)
	// ResolveReport records what an admin did about an open report, and
	// about every other open report of the same message, and returns the
	// report. ENOTFOUND if there is no such report; ECONFLICT if it is
	// resolved already.
	ResolveReport(ctx context.Context, id, by int64, action string, now time.Time) (Report, error)
}
