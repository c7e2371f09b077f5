// Package httpapi serves the licensing HTTP API.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error codes sent in error bodies.
const (
	codeInvalidJSON          = "invalid_json"
	codeInvalidField         = "invalid_field"
	codeMissingField         = "missing_field"
	codeInvalidTenant        = "invalid_tenant"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeMethodNotAllowed     = "method_not_allowed"
	codeNotFound             = "not_found"
	codeInternal             = "internal_error"
	codeRateLimited          = "rate_limited"
	codeUnavailable          = "service_unavailable"
)

// Error is a failure that the client can act on, sent as
// {"error": {"code", "message", "field"}} with Status. A positive RetryAfter
// is sent as the Retry-After header, rounded up to whole seconds.
type Error struct {
	Status     int
	Code       string
	Field      string
	Message    string
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError sends err to the client. An *Error is sent as it is; any other
// error is logged and sent as a 500 with a fixed message, so internal
// details never reach the client.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var apiErr *Error
	if isTimeout(err) {
		logger.WarnContext(r.Context(), "request timed out",
			"error", err, "request_id", requestIDFrom(r.Context()), "route", routePattern(r))
		apiErr = &Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable, RetryAfter: time.Second,
			Message: "the license database did not answer in time; try again later"}
	} else if !errors.As(err, &apiErr) {
		logger.ErrorContext(r.Context(), "request failed",
			"error", err, "request_id", requestIDFrom(r.Context()), "route", routePattern(r))
		apiErr = &Error{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error; try again later"}
	}
	if apiErr.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(apiErr.RetryAfter.Seconds()))))
	}
	writeJSON(w, apiErr.Status, errorBody{Error: errorDetail{Code: apiErr.Code, Message: apiErr.Message, Field: apiErr.Field}})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An encoding error here means the client went away; nothing is left to do.
	_ = json.NewEncoder(w).Encode(body)
}

// isTimeout reports whether err is a deadline that ran out: the request's
// own, a network timeout, or PostgreSQL's statement_timeout (SQLSTATE 57014).
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" {
		return true
	}
	var netErr interface{ Timeout() bool }
	return errors.As(err, &netErr) && netErr.Timeout()
}
