package parley

import (
	"errors"
	"fmt"
	"time"
)

// Error codes: every code a client can see, over REST, the WebSocket or a
// suggestion stream, is declared here and nowhere else. http/errors.go maps
// each to its HTTP status; docs/protocol.md lists them.
const (
	ECONFLICT     = "conflict"        // 409
	EINTERNAL     = "internal"        // 500
	EINVALID      = "invalid"         // 400
	ENOTFOUND     = "not_found"       // 404
	EUNAUTHORIZED = "unauthorized"    // 401
	EFORBIDDEN    = "forbidden"       // 403
	ERATELIMITED  = "rate_limited"    // 429
	ETOOLARGE     = "too_large"       // 413
	EUNAVAILABLE  = "unavailable"     // 503
	ENOTIMPL      = "not_implemented" // 501

	EUSERNAMETAKEN  = "username_taken"       // 409
	EEMAILTAKEN     = "email_taken"          // 409
	ECODETAKEN      = "code_taken"           // 409
	EGROUPNOTFOUND  = "group_not_found"      // 404
	ENOTACCEPTING   = "not_accepting"        // 403
	EGROUPFULL      = "group_full"           // 409
	EBADCREDENTIALS = "bad_credentials"      // 401
	ECLIENTMSGID    = "client_msg_id_reused" // 409: a resend with the same client_msg_id but other text
	EQUOTA          = "quota_exceeded"       // 413: the user's uploads would pass their quota

	// WebSocket only.
	EBADREQUEST = "bad_request" // 400: the frame is not a JSON request with "op"
	EUNKNOWNOP  = "unknown_op"  // 400: no such operation

	// Calls (call_invite).
	EBUSY  = "busy"  // 409: the callee is in another call
	EGLARE = "glare" // 409: the callee is calling you; answer their ring

	// Suggestions (the "error" event of the stream).
	EAIUNAVAILABLE = "ai_unavailable"  // 503: the provider could not be reached, failed or refused
	EAIRATELIMITED = "ai_rate_limited" // 429: the provider rate-limited us
	EAITIMEOUT     = "ai_timeout"      // 504: no complete answer in time
	EAIBADRESPONSE = "ai_bad_response" // 502: the provider answered with something unusable
)

// Error is a domain error: a machine-readable code and a message safe to
// show to the user. Field names the offending input field, when there is one.
// RetryAfter, when set (with ERATELIMITED), says when to try again.
type Error struct {
	Code       string
	Message    string
	Field      string
	RetryAfter time.Duration
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
	if err == nil {
		return ""
	}
	var e *Error // escapes (errors.As): declared past the nil check, allocated only for errors
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the *Error in err's chain, or a generic
// message for internal errors (whose text must never reach a client).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error // escapes (errors.As): declared past the nil check, allocated only for errors
	if errors.As(err, &e) {
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

// ErrorRetryAfter returns the RetryAfter of the *Error in err's chain, if any.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorBody is an error as a client receives it: the "error" object of a
// REST answer ({"error":{…}}), of a WebSocket reply ({"re":…,"ok":false,
// "error":{…}}) and the data of a suggestion stream's "error" event. The same
// error gives the same body on every path.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RetryAfterMS comes with rate_limited when the server knows when to
	// try again (REST answers also carry a Retry-After header).
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// BodyOf returns what a client may see of err: internal errors become code
// "internal" with a generic message.
func BodyOf(err error) ErrorBody {
	b := ErrorBody{Code: ErrorCode(err), Message: ErrorMessage(err), Field: ErrorField(err)}
	if d := ErrorRetryAfter(err); d > 0 {
		b.RetryAfterMS = max(1, d.Milliseconds())
	}
	return b
}

// ErrorResponse is the body of a REST error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrNotFound is the one answer for a conversation that does not exist and
// for one the caller is not a member of.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "Not found."}

// ErrUnavailable is returned when the database cannot be reached.
var ErrUnavailable = &Error{Code: EUNAVAILABLE, Message: "The service is temporarily unavailable; try again."}
