package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rescuepc/licensing/internal/metrics"
)

// Options holds what the API needs to serve requests.
type Options struct {
	Logger   *slog.Logger
	Region   string
	Version  string
	Verifier Verifier
	Database Pinger
	// Drain, when set, turns /api/health to 503 once the server drains.
	Drain *Drain
	// Billing serves the Stripe webhook and checkout endpoints; nil leaves
	// them out.
	Billing Billing
	// OptionalChecks are dependencies that /api/health reports as degraded,
	// without failing, when they do not respond.
	OptionalChecks []Check
	// Metrics records requests and verdicts; nil records nothing.
	Metrics *metrics.Metrics
	// RateLimiter limits verify attempts; nil means no limits.
	RateLimiter RateLimiter
	// TrustedProxies lists the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// VerifyTimeout bounds one verification; 0 means no bound beyond the
	// server's write timeout.
	VerifyTimeout time.Duration
}

// NewHandler returns the router for every endpoint of the API.
func NewHandler(opts Options) http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID, withRegion(opts.Region), withAccessLog(opts.Logger), withMetrics(opts.Metrics))

	checks := append([]Check{{Name: "database", Pinger: opts.Database}}, opts.OptionalChecks...)
	health := handleHealth(checks, opts.Drain, opts.Region, opts.Version, opts.Logger)
	r.Get("/api/health", health)
	r.Head("/api/health", health)
	r.Get("/api/health/live", handleLive)
	r.Head("/api/health/live", handleLive)

	r.With(withIPLimit(opts), withTenant(opts.Logger)).Post("/api/verify-license", handleVerify(opts))
	if opts.Billing != nil {
		r.Post("/api/webhooks/stripe", handleStripeWebhook(opts.Billing, opts.Logger))
		r.With(withTenant(opts.Logger)).Get("/api/checkout-sessions/{id}/license",
			handleCheckoutLicense(opts.Billing, opts.Logger))
	}

	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		writeError(w, req, opts.Logger, &Error{Status: http.StatusNotFound, Code: codeNotFound,
			Message: "no endpoint at " + req.URL.Path})
	})
	r.MethodNotAllowed(handleMethodNotAllowed(r, opts.Logger))
	return r
}

// handleMethodNotAllowed responds 405 with an Allow header listing the
// methods the path accepts.
func handleMethodNotAllowed(routes chi.Routes, logger *slog.Logger) http.HandlerFunc {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions}
	return func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range methods {
			if routes.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, r, logger, &Error{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
			Message: r.Method + " is not allowed on " + r.URL.Path + "; use " + strings.Join(allowed, " or ")})
	}
}
