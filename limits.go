package parley

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Input limits. docs/protocol.md lists each; change both together.
const (
	UsernameMin    = 3
	UsernameMax    = 32
	EmailMax       = 254
	PasswordMin    = 8
	PasswordMax    = 128
	DisplayNameMax = 64
	GroupNameMin   = 1
	GroupNameMax   = 64
	// CodeMin is the shortest code a group can be given. Codes of
	// CodeMinLegacy to CodeMin-1 characters, set before the limit was
	// raised, still let people join.
	CodeMin         = 6
	CodeMinLegacy   = 4
	CodeMax         = 32
	MessageTextMax  = 4096 // characters (Unicode code points)
	ClientMsgIDMax  = 64
	PageSizeDefault = 50
	PageSizeMax     = 200
	// DefaultMaxMembers is the default member limit of a group.
	DefaultMaxMembers = 1000
	// SyncPageSize bounds the messages one sync returns per conversation.
	SyncPageSize = 200
	// ForwardTargetsMax bounds the conversations one forward sends a
	// message to.
	ForwardTargetsMax = 5
)

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9_.-]+$`)
	codeRE     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	emailRE    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// NormalizeUsername lower-cases a username; usernames are unique without
// regard to case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateUsername checks a normalized username.
func ValidateUsername(s string) error {
	if n := len(s); n < UsernameMin || n > UsernameMax || !usernameRE.MatchString(s) {
		return FieldErrorf("username", "Username must be %d to %d characters of a-z, 0-9, '_', '.' or '-'.", UsernameMin, UsernameMax)
	}
	return nil
}

// ValidateEmail checks an e-mail address (a plausibility check only).
func ValidateEmail(s string) error {
	if len(s) > EmailMax || !emailRE.MatchString(s) {
		return FieldErrorf("email", "Email must be a valid address of at most %d characters.", EmailMax)
	}
	return nil
}

// ValidatePassword checks a password's length in characters.
func ValidatePassword(s string) error {
	if n := utf8.RuneCountInString(s); n < PasswordMin || n > PasswordMax || !utf8.ValidString(s) {
		return FieldErrorf("password", "Password must be %d to %d characters.", PasswordMin, PasswordMax)
	}
	return nil
}

// NormalizeName trims a display name or group name and puts it in Unicode
// normalization form C, so that names that look the same and are made of
// the same characters are stored the same way.
func NormalizeName(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// ValidateDisplayName checks a normalized display name (may be empty).
func ValidateDisplayName(s string) error {
	if utf8.RuneCountInString(s) > DisplayNameMax || !utf8.ValidString(s) || hasInvisible(s) {
		return FieldErrorf("display_name", "Display name must be at most %d characters, without control, format (such as zero-width or direction marks) or private-use characters.", DisplayNameMax)
	}
	return nil
}

// ValidateGroupName checks a normalized group name.
func ValidateGroupName(s string) error {
	if n := utf8.RuneCountInString(s); n < GroupNameMin || n > GroupNameMax || !utf8.ValidString(s) || hasInvisible(s) {
		return FieldErrorf("name", "Group name must be %d to %d characters, without control, format (such as zero-width or direction marks) or private-use characters.", GroupNameMin, GroupNameMax)
	}
	return nil
}

// hasInvisible reports whether s holds a character that can make a name
// look like another one or hide text: control characters (Cc), format
// characters (Cf: bidirectional overrides, zero-width spaces and joiners,
// the byte order mark) and private-use characters (Co).
func hasInvisible(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co) {
			return true
		}
	}
	return false
}

// ValidateCode checks a join code given to a group.
func ValidateCode(s string) error {
	if n := len(s); n < CodeMin || n > CodeMax || !codeRE.MatchString(s) {
		return FieldErrorf("code", "Code must be %d to %d characters of A-Z, a-z, 0-9, '-' or '_'.", CodeMin, CodeMax)
	}
	return nil
}

// CodeMayExist reports whether a code typed to join a group could be one:
// codes as short as CodeMinLegacy, from before CodeMin was raised, still
// work.
func CodeMayExist(s string) bool {
	n := len(s)
	return n >= CodeMinLegacy && n <= CodeMax && codeRE.MatchString(s)
}

// ValidateText checks a message's text: 1 to MessageTextMax characters, not
// only white space, valid UTF-8.
func ValidateText(s string) error {
	if !utf8.ValidString(s) {
		return FieldErrorf("text", "Text must be valid UTF-8.")
	}
	if strings.TrimSpace(s) == "" {
		return FieldErrorf("text", "Text must not be empty.")
	}
	if utf8.RuneCountInString(s) > MessageTextMax {
		return FieldErrorf("text", "Text must be at most %d characters.", MessageTextMax)
	}
	return nil
}

// ValidateClientMsgID checks a client-generated message id.
func ValidateClientMsgID(s string) error {
	if s == "" || len(s) > ClientMsgIDMax || hasControl(s) || !utf8.ValidString(s) {
		return FieldErrorf("client_msg_id", "client_msg_id must be 1 to %d printable characters.", ClientMsgIDMax)
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
