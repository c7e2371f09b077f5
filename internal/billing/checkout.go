package billing

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// SessionFetcher retrieves a checkout session from Stripe as its raw JSON
// object. It returns ErrSessionNotFound when Stripe has no such session.
type SessionFetcher interface {
	CheckoutSession(ctx context.Context, id string) ([]byte, error)
}

// Errors returned by CheckoutLicense.
var (
	// ErrSessionNotFound means the session has no license yet, or Stripe
	// does not know it.
	ErrSessionNotFound = errors.New("checkout session has no license yet")
	// ErrKeyUnavailable means the license exists but the key derived from
	// the session no longer matches it, because CHECKOUT_KEY_SECRET or
	// LICENSE_KEY_SECRET changed since it was issued.
	ErrKeyUnavailable = errors.New("license key of the checkout session cannot be derived")
)

// CheckoutLicense is the license of a checkout session, with its key.
type CheckoutLicense struct {
	Key     string
	License license.License
}

// CheckoutLicense returns the license of a checkout session in the tenant.
// When no webhook has issued it yet and a SessionFetcher is set, it
// retrieves the session from Stripe and issues the license itself if the
// session is paid; the webhook that arrives later finds it issued. It
// returns ErrSessionNotFound or ErrKeyUnavailable.
func (s *Service) CheckoutLicense(ctx context.Context, tid tenant.ID, sessionID string) (CheckoutLicense, error) {
	l, err := s.store.CheckoutLicense(ctx, tid, sessionID)
	if errors.Is(err, license.ErrNotFound) && s.sessions != nil {
		l, err = s.fulfil(ctx, tid, sessionID)
	}
	if errors.Is(err, license.ErrNotFound) {
		return CheckoutLicense{}, ErrSessionNotFound
	}
	if err != nil {
		return CheckoutLicense{}, err
	}

	key := license.CheckoutKey(s.checkoutSecret, sessionID)
	if subtle.ConstantTimeCompare(s.hasher.Hash(key), l.KeyHash) != 1 {
		s.logger.ErrorContext(ctx, "checkout license key cannot be derived; was CHECKOUT_KEY_SECRET or LICENSE_KEY_SECRET changed?",
			"license_id", l.ID, "tenant", string(tid), "session_id", sessionID)
		return CheckoutLicense{}, fmt.Errorf("%w: license %s", ErrKeyUnavailable, l.ID)
	}
	return CheckoutLicense{Key: key, License: l}, nil
}

// fulfil retrieves the session from Stripe and issues its license when it
// is paid and belongs to tid. It returns license.ErrNotFound otherwise.
func (s *Service) fulfil(ctx context.Context, tid tenant.ID, sessionID string) (license.License, error) {
	raw, err := s.sessions.CheckoutSession(ctx, sessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return license.License{}, license.ErrNotFound
	}
	if err != nil {
		return license.License{}, fmt.Errorf("retrieve checkout session %s from Stripe: %w", sessionID, err)
	}

	var sess checkoutSession
	if err := decodeObject(Event{Type: "checkout.session", Object: raw}, &sess); err != nil {
		return license.License{}, err
	}
	owner, err := s.tenantOf(ctx, sess.Metadata)
	if err != nil || owner != tid || sess.ID != sessionID {
		return license.License{}, license.ErrNotFound
	}
	issue, err := s.issueFor(tid, sess)
	if err != nil {
		s.logger.InfoContext(ctx, "checkout session retrieved from Stripe issues no license",
			"session_id", sessionID, "tenant", string(tid), "reason", err.Error())
		return license.License{}, license.ErrNotFound
	}
	return s.store.IssueCheckoutLicense(ctx, tid, *issue, "checkout session lookup")
}
