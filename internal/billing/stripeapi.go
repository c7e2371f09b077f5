package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// StripeSessions retrieves checkout sessions through the Stripe API.
type StripeSessions struct {
	backend stripe.Backend
	key     string
}

// NewStripeSessions returns a SessionFetcher that calls the Stripe API at
// apiURL, or at Stripe's own when apiURL is empty, with the secret key.
func NewStripeSessions(key, apiURL string) *StripeSessions {
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 10 * time.Second},
		MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull}, // errors are returned and logged by the caller
	}
	if apiURL != "" {
		cfg.URL = stripe.String(apiURL)
	}
	return &StripeSessions{backend: stripe.GetBackendWithConfig(stripe.APIBackend, cfg), key: key}
}

// rawObject receives a Stripe API response as raw JSON.
type rawObject struct {
	stripe.APIResource
	json.RawMessage
}

// CheckoutSession returns the session's JSON object, or ErrSessionNotFound.
func (s *StripeSessions) CheckoutSession(ctx context.Context, id string) ([]byte, error) {
	params := &stripe.CheckoutSessionParams{}
	params.Context = ctx
	var obj rawObject
	err := s.backend.Call(http.MethodGet, stripe.FormatURLPath("/v1/checkout/sessions/%s", id), s.key, params, &obj)
	var stripeErr *stripe.Error
	if errors.As(err, &stripeErr) && stripeErr.HTTPStatusCode == http.StatusNotFound {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("stripe API: %w", err)
	}
	return obj.RawMessage, nil
}
