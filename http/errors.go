package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"parley"
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
	parley.EBADREQUEST:     http.StatusBadRequest,
	parley.EUNKNOWNOP:      http.StatusBadRequest,
	parley.EBUSY:           http.StatusConflict,
	parley.EGLARE:          http.StatusConflict,
	parley.EAIUNAVAILABLE:  http.StatusServiceUnavailable,
	parley.EAIRATELIMITED:  http.StatusTooManyRequests,
	parley.EAITIMEOUT:      http.StatusGatewayTimeout,
	parley.EAIBADRESPONSE:  http.StatusBadGateway,
	parley.EQUOTA:          http.StatusRequestEntityTooLarge,
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

// writeError answers with {"error":{code,message,field}} (parley.BodyOf) and
// the code's status; a known wait goes into Retry-After. Internal errors are
// logged with the request and shown to the client only as "internal".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	body := parley.BodyOf(err)
	if body.Code == parley.EINTERNAL && errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away (closed the connection, cancelled an
		// upgrade): nothing failed here, and no one reads the answer.
		s.log.Debug("request cancelled by the client", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(StatusClientClosed)
		return
	}
	if body.Code == parley.EINTERNAL {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeErrorBody(w, err)
}

// writeErrorBody writes err's status, Retry-After (when err says when to
// try again) and body. Every REST error answer is written here.
func writeErrorBody(w http.ResponseWriter, err error) {
	body := parley.BodyOf(err)
	if d := parley.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.Seconds()+0.999)))
	}
	writeJSON(w, ErrorStatus(body.Code), parley.ErrorResponse{Error: body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
