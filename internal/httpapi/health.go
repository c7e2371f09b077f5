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

// handleHealth reports readiness: 200 when the database responds within
// healthTimeout, 503 otherwise.
func handleHealth(db Pinger, region, version string, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
