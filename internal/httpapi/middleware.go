package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rescuepc/licensing/internal/tenant"
)

type requestIDKey struct{}

// clientRequestID is the form of X-Request-ID accepted from a client; any
// other value is replaced so logs never carry arbitrary client text.
var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID keeps a sane client X-Request-ID or makes a new one, and
// sends it back on the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || !clientRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // Since Go 1.24, crypto/rand.Read never returns an error.
	return hex.EncodeToString(b)
}

// withRegion sets X-Region on every response.
func withRegion(region string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Region", region)
			next.ServeHTTP(w, r)
		})
	}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessInfo collects what inner handlers learn about a request, such as
// its tenant, for the access log line written by the outer middleware.
type accessInfo struct {
	tenant tenant.ID
}

type accessInfoKey struct{}

// setLogTenant records the request's tenant for the access log.
func setLogTenant(ctx context.Context, id tenant.ID) {
	if info, ok := ctx.Value(accessInfoKey{}).(*accessInfo); ok {
		info.tenant = id
	}
}

// withAccessLog writes one log line per request, and turns a panic into a
// logged 500 so one bad request never stops the server.
func withAccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			info := &accessInfo{}
			r = r.WithContext(context.WithValue(r.Context(), accessInfoKey{}, info))
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					logger.ErrorContext(r.Context(), "handler panicked", "panic", p, "request_id", requestIDFrom(r.Context()))
					if rec.status == 0 {
						writeJSON(rec, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: codeInternal, Message: "internal error; try again later"}})
					}
				}
				logAccess(logger, r, info, rec.status, time.Since(start))
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

func logAccess(logger *slog.Logger, r *http.Request, info *accessInfo, status int, elapsed time.Duration) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	logger.LogAttrs(r.Context(), level, "request",
		slog.String("method", r.Method),
		slog.String("route", routePattern(r)),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("tenant", string(info.tenant)),
		slog.String("request_id", requestIDFrom(r.Context())),
	)
}

// routePattern returns the matched route, such as /api/verify-license, so
// logs group by route and never carry path parameters.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// withTenant puts the tenant from X-Tenant-ID, or tenant.Default when the
// header is absent, into the request context. A malformed header gets 400.
func withTenant(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := tenant.Default
			if values := r.Header.Values("X-Tenant-ID"); len(values) > 0 {
				parsed, err := tenant.Parse(values[0])
				if err != nil || len(values) > 1 {
					writeError(w, r, logger, &Error{
						Status: http.StatusBadRequest, Code: codeInvalidTenant, Field: "X-Tenant-ID",
						Message: "X-Tenant-ID must be one value of 1 to 50 lowercase letters, digits, '-' or '_', starting with a letter or digit",
					})
					return
				}
				id = parsed
			}
			setLogTenant(r.Context(), id)
			next.ServeHTTP(w, r.WithContext(tenant.NewContext(r.Context(), id)))
		})
	}
}
