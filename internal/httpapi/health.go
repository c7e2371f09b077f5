package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// healthTimeout bounds each dependency check, so a health probe never hangs
// on a database that does not respond.
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
	Details map[string]any    `json:"details,omitempty"`
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

// Check is a dependency that /api/health pings. A failing required check
// makes the service unavailable (503). A failing optional one, such as the
// Redis cache, only makes it degraded and keeps 200, because the service
// works without it.
type Check struct {
	Name     string
	Pinger   Pinger
	Optional bool
	// Details, when set, adds measurements such as a replica's lag to the
	// response's details object.
	Details func() map[string]any
}

// handleHealth reports readiness: 503 "draining" once drain has started,
// otherwise 200 when every required check responds within healthTimeout
// and 503 when one does not. A failing optional check sets its entry and
// the status to "degraded".
func handleHealth(checks []Check, drain *Drain, region, version string, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if drain.Draining() {
			writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "draining", Region: region, Version: version, Checks: map[string]string{}})
			return
		}
		resp := healthResponse{Status: "ok", Region: region, Version: version, Checks: map[string]string{}}
		status := http.StatusOK

		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		for _, c := range checks {
			resp.Checks[c.Name] = "ok"
			resp.addDetails(c)
			err := c.Pinger.Ping(ctx)
			if err == nil {
				continue
			}
			logger.WarnContext(r.Context(), "health check failed", "check", c.Name, "error", err)
			if c.Optional {
				resp.Checks[c.Name] = "degraded"
				if status == http.StatusOK {
					resp.Status = "degraded"
				}
				continue
			}
			resp.Status, resp.Checks[c.Name] = "unavailable", "unavailable"
			status = http.StatusServiceUnavailable
		}

		writeJSON(w, status, resp)
	}
}

func (resp *healthResponse) addDetails(c Check) {
	if c.Details == nil {
		return
	}
	if resp.Details == nil {
		resp.Details = map[string]any{}
	}
	for k, v := range c.Details() {
		resp.Details[k] = v
	}
}

// handleLive reports that the process is running, without touching any
// dependency.
func handleLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
