package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// healthTimeout bounds each dependency check, so a health probe never hangs
// on a database that does not answer.
const healthTimeout = time.Second

// Pinger checks that a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

type healthResponse struct {
	Status  string            `json:"status"`
	Region  string            `json:"region"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
}

// Check is a dependency that /api/health pings. A failing required check
// makes the service unavailable (503); a failing optional one, such as the
// Redis cache, only makes it degraded, still 200, because the service works
// without it.
type Check struct {
	Name     string
	Pinger   Pinger
	Optional bool
}

// handleHealth reports readiness: 200 when every required check answers
// within healthTimeout, 503 otherwise. A failing optional check sets its
// entry and the status to "degraded".
func handleHealth(checks []Check, region, version string, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resp := healthResponse{Status: "ok", Region: region, Version: version, Checks: map[string]string{}}
		status := http.StatusOK

		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		for _, c := range checks {
			resp.Checks[c.Name] = "ok"
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

// handleLive reports that the process is running, without touching any
// dependency.
func handleLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
