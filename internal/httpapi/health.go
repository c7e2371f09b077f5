package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// healthTimeout bounds each dependency check, so a health probe never hangs
// on a database that does not answer.
const healthTimeout = time.Second

// Pinger checks that a dependency responds.
type Pinger interface {
	Ping(ctx context.Context) error
}

type healthResponse struct {
	Status  string            `json:"status"`
	Region  string            `json:"region"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
}

// Drain marks a server that is shutting down. Once Start is called,
// /api/health returns 503 with status "draining" and every response
// carries "Connection: close", while requests are still served.
// The zero value is a server that is not draining.
type Drain struct {
	draining atomic.Bool
}

// Start marks the server as draining. It is safe to call more than once
// and from any goroutine.
func (d *Drain) Start() { d.draining.Store(true) }

// Draining reports whether Start has been called. A nil Drain never drains.
func (d *Drain) Draining() bool { return d != nil && d.draining.Load() }

// Wrap returns next with a "Connection: close" header on every response
// sent while draining, so keep-alive clients reconnect elsewhere instead
// of reusing a connection that is about to close.
func (d *Drain) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Draining() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// handleHealth reports readiness: 503 "draining" once drain has started,
// otherwise 200 when the database responds within healthTimeout and 503
// when it does not.
func handleHealth(db Pinger, drain *Drain, region, version string, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if drain.Draining() {
			writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "draining", Region: region, Version: version, Checks: map[string]string{}})
			return
		}
		resp := healthResponse{Status: "ok", Region: region, Version: version, Checks: map[string]string{"database": "ok"}}
		status := http.StatusOK

		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			logger.WarnContext(r.Context(), "health check failed", "check", "database", "error", err)
			resp.Status, resp.Checks["database"] = "unavailable", "unavailable"
			status = http.StatusServiceUnavailable
		}

		writeJSON(w, status, resp)
	}
}

// handleLive reports that the process is running, without touching any
// dependency.
func handleLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
