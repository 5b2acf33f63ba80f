package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"parley"
	"parley/service"
)

// codes maps every error code to its HTTP status. This is the only place
// that does.
var codes = map[string]int{
	parley.ECONFLICT:       http.StatusConflict,
	parley.EINVALID:        http.StatusBadRequest,
	parley.ENOTFOUND:       http.StatusNotFound,
	parley.EUNAUTHORIZED:   http.StatusUnauthorized,
	parley.EFORBIDDEN:      http.StatusForbidden,
	parley.ERATELIMITED:    http.StatusTooManyRequests,
	parley.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	parley.EUNAVAILABLE:    http.StatusServiceUnavailable,
	parley.ENOTIMPL:        http.StatusNotImplemented,
	parley.EINTERNAL:       http.StatusInternalServerError,
	parley.EUSERNAMETAKEN:  http.StatusConflict,
	parley.EEMAILTAKEN:     http.StatusConflict,
	parley.ECODETAKEN:      http.StatusConflict,
	parley.EGROUPNOTFOUND:  http.StatusNotFound,
	parley.ENOTACCEPTING:   http.StatusForbidden,
	parley.EGROUPFULL:      http.StatusConflict,
	parley.EBADCREDENTIALS: http.StatusUnauthorized,
	parley.ECLIENTMSGID:    http.StatusConflict,
}

// ErrorStatus returns the HTTP status for an error code.
func ErrorStatus(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// StatusClientClosed is recorded (in metrics) for a request its client
// cancelled before the answer, as nginx does.
const StatusClientClosed = 499

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers with {"error":{code,message,field}}. Internal errors are
// logged with the request and shown to the client only as "internal".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	if code == parley.EINTERNAL && errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away (closed the connection, cancelled an
		// upgrade): nothing failed here, and no one reads the answer.
		s.log.Debug("request cancelled by the client", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(StatusClientClosed)
		return
	}
	if code == parley.EINTERNAL {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var rl *service.RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
	}
	writeJSON(w, ErrorStatus(code), errorBody{errorDetail{Code: code, Message: parley.ErrorMessage(err), Field: parley.ErrorField(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
