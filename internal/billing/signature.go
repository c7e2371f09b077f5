package billing

import (
	"context"
	"errors"
	"expvar"
	"fmt"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Errors returned by ConstructEvent.
var (
	// ErrNotConfigured means no signing secret is set, so no event can be
	// verified.
	ErrNotConfigured = errors.New("STRIPE_WEBHOOK_SECRET is not set")
	// ErrSignature means the Stripe-Signature header is missing, matches
	// none of the secrets, or is older than the tolerance.
	ErrSignature = errors.New("invalid Stripe-Signature")
)

// SignatureFailures counts webhook requests rejected for their signature,
// published by expvar as stripe_webhook_signature_failures.
var SignatureFailures = expvar.NewInt("stripe_webhook_signature_failures")

// ConstructEvent verifies the Stripe-Signature header of payload against
// each webhook secret, with stripe-go's default tolerance of five minutes,
// and decodes the event. Events of any API version are accepted; the first
// event of each version other than the one stripe-go pins is logged. It
// returns ErrNotConfigured, an error wrapping ErrSignature, or a decoding
// error.
func (s *Service) ConstructEvent(ctx context.Context, payload []byte, header string) (Event, error) {
	if len(s.secrets) == 0 {
		return Event{}, ErrNotConfigured
	}
	if err := s.verifySignature(payload, header); err != nil {
		SignatureFailures.Add(1)
		return Event{}, err
	}
	ev, err := ParseEvent(payload)
	if err != nil {
		return Event{}, err
	}
	if ev.APIVersion != stripe.APIVersion {
		if _, seen := s.seenVersions.LoadOrStore(ev.APIVersion, true); !seen {
			s.logger.WarnContext(ctx, "stripe event has an API version other than the one stripe-go pins; only stable fields are read",
				"api_version", ev.APIVersion, "pinned_api_version", stripe.APIVersion, "event_id", ev.ID)
		}
	}
	return ev, nil
}

// verifySignature accepts payload when any secret's signature matches, so a
// secret can be rotated by listing the new one next to the old one.
func (s *Service) verifySignature(payload []byte, header string) error {
	var err error
	for _, secret := range s.secrets {
		err = webhook.ValidatePayload(payload, header, secret)
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %v", ErrSignature, err)
}
