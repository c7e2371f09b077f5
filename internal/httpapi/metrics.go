package httpapi

import (
	"net/http"
	"time"

	"github.com/rescuepc/licensing/internal/metrics"
)

// withMetrics counts each request by route and status and records its
// latency.
func withMetrics(m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if m == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			m.ObserveRequest(routePattern(r), rec.status, time.Since(start))
		})
	}
}
