package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/tenant"
)

// maxWebhookBody is the largest Stripe event accepted, a bound against
// abuse well above the size of Stripe's events.
const maxWebhookBody = 512 << 10

// Error codes of the Stripe endpoints.
const (
	codeInvalidSignature     = "invalid_signature"
	codeInvalidEvent         = "invalid_event"
	codeWebhookNotConfigured = "webhook_not_configured"
	codeLicenseNotReady      = "license_not_ready"
	codeKeyUnavailable       = "key_unavailable"
)

// Billing verifies and applies Stripe events and returns checkout
// sessions' licenses. *billing.Service implements it.
type Billing interface {
	ConstructEvent(ctx context.Context, payload []byte, header string) (billing.Event, error)
	Process(ctx context.Context, ev billing.Event) (billing.Outcome, error)
	CheckoutLicense(ctx context.Context, tid tenant.ID, sessionID string) (billing.CheckoutLicense, error)
}

type webhookResponse struct {
	Received bool   `json:"received"`
	Outcome  string `json:"outcome"`
}

// handleStripeWebhook verifies a Stripe event and applies it. A permanent
// failure gets 200 so Stripe stops sending the event, and a transient one
// gets 500 so Stripe retries.
func handleStripeWebhook(b Billing, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			writeError(w, r, logger, decodeError(err))
			return
		}

		ev, err := b.ConstructEvent(r.Context(), payload, r.Header.Get("Stripe-Signature"))
		if err != nil {
			writeError(w, r, logger, webhookError(r, logger, err))
			return
		}

		out, err := b.Process(r.Context(), ev)
		if isTimeout(err) {
			// Stripe retries any failure; the webhook responds 500 rather than
			// the 503 of other endpoints, so every transient fault looks alike.
			logger.WarnContext(r.Context(), "stripe event not applied in time; Stripe will retry",
				"event_id", ev.ID, "error", err, "request_id", requestIDFrom(r.Context()))
			err = &Error{Status: http.StatusInternalServerError, Code: codeInternal,
				Message: "the event could not be applied in time; Stripe retries it"}
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, webhookResponse{Received: true, Outcome: out.Status})
	}
}

// webhookError maps an error of ConstructEvent to its response.
func webhookError(r *http.Request, logger *slog.Logger, err error) *Error {
	switch {
	case errors.Is(err, billing.ErrNotConfigured):
		logger.ErrorContext(r.Context(), "stripe webhook rejected: STRIPE_WEBHOOK_SECRET is not set",
			"request_id", requestIDFrom(r.Context()))
		return &Error{Status: http.StatusServiceUnavailable, Code: codeWebhookNotConfigured,
			Message: "the Stripe webhook is not configured on this server"}
	case errors.Is(err, billing.ErrSignature):
		logger.WarnContext(r.Context(), "stripe webhook signature rejected",
			"error", err, "request_id", requestIDFrom(r.Context()))
		return &Error{Status: http.StatusBadRequest, Code: codeInvalidSignature, Field: "Stripe-Signature",
			Message: "Stripe-Signature is missing, does not match the body, or is older than five minutes"}
	}
	return &Error{Status: http.StatusBadRequest, Code: codeInvalidEvent, Message: err.Error()}
}

// checkoutSessionID is the form of a Stripe checkout session ID.
var checkoutSessionID = regexp.MustCompile(`^cs_[A-Za-z0-9_]{1,250}$`)

type checkoutLicenseResponse struct {
	LicenseKey string  `json:"licenseKey"`
	Email      string  `json:"email"`
	Status     string  `json:"status"`
	Plan       string  `json:"plan"`
	ExpiresAt  *string `json:"expiresAt"`
}

// handleCheckoutLicense returns the license and key of a checkout session,
// or 404 with Retry-After while its webhook has not arrived.
func handleCheckoutLicense(b Billing, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if !checkoutSessionID.MatchString(id) {
			writeError(w, r, logger, invalidField("id", "must be a Stripe checkout session ID such as cs_test_a1B2c3"))
			return
		}
		tid, err := tenant.FromContext(r.Context())
		if err != nil {
			writeError(w, r, logger, err)
			return
		}

		cl, err := b.CheckoutLicense(r.Context(), tid, id)
		if err != nil {
			writeError(w, r, logger, checkoutError(w, err))
			return
		}

		resp := checkoutLicenseResponse{LicenseKey: cl.Key, Email: cl.License.Email,
			Status: string(cl.License.Status), Plan: cl.License.Plan}
		if cl.License.ExpiresAt != nil {
			s := cl.License.ExpiresAt.UTC().Format(time.RFC3339)
			resp.ExpiresAt = &s
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

func checkoutError(w http.ResponseWriter, err error) error {
	switch {
	case errors.Is(err, billing.ErrSessionNotFound):
		w.Header().Set("Retry-After", "2")
		return &Error{Status: http.StatusNotFound, Code: codeLicenseNotReady,
			Message: "no license for this checkout session yet; retry after 2 seconds"}
	case errors.Is(err, billing.ErrKeyUnavailable):
		return &Error{Status: http.StatusConflict, Code: codeKeyUnavailable,
			Message: "the license exists but its key cannot be shown again; contact support"}
	}
	return err
}
