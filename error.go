package parley

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in http/errors.go and is the
// "code" field of every error a client sees.
const (
	ECONFLICT     = "conflict"     // 409
	EINTERNAL     = "internal"     // 500
	EINVALID      = "invalid"      // 400
	ENOTFOUND     = "not_found"    // 404
	EUNAUTHORIZED = "unauthorized" // 401
	EFORBIDDEN    = "forbidden"    // 403
	ERATELIMITED  = "rate_limited" // 429
	ETOOLARGE     = "too_large"    // 413
	EUNAVAILABLE  = "unavailable"  // 503
	ENOTIMPL      = "not_implemented"

	EUSERNAMETAKEN  = "username_taken"       // 409
	EEMAILTAKEN     = "email_taken"          // 409
	ECODETAKEN      = "code_taken"           // 409
	EGROUPNOTFOUND  = "group_not_found"      // 404
	ENOTACCEPTING   = "not_accepting"        // 403
	EGROUPFULL      = "group_full"           // 409
	EBADCREDENTIALS = "bad_credentials"      // 401
	ECLIENTMSGID    = "client_msg_id_reused" // 409
)

// Error is a domain error: a machine-readable code and a message safe to
// show to the user. Field names the offending input field, when there is one.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("parley error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID error naming the offending field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the *Error in err's chain, or a generic
// message for internal errors (whose text must never reach a client).
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field named by the *Error in err's chain, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrNotFound is the one answer for a conversation that does not exist and
// for one the caller is not a member of.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "Not found."}

// ErrUnavailable is returned when the database cannot be reached.
var ErrUnavailable = &Error{Code: EUNAVAILABLE, Message: "The service is temporarily unavailable; try again."}
