package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// Store keeps Stripe events and applies their effects. The postgres
// package implements it.
type Store interface {
	// StripeObjectTenant returns the tenant of the first of ids that is
	// linked to a license, or tenant.ErrNotFound.
	StripeObjectTenant(ctx context.Context, ids ...string) (tenant.ID, error)
	// ApplyStripeEvent records the event and applies eff in one
	// transaction. It returns StatusDuplicate when the event ID is already
	// recorded, and tenant.ErrNotFound when the tenant does not exist.
	ApplyStripeEvent(ctx context.Context, rec Record, eff Effect) (Outcome, error)
	// RecordStripeEvent records an event that has no effect. It returns
	// false when the event ID is already recorded.
	RecordStripeEvent(ctx context.Context, rec Record) (bool, error)
	// StripeEvent returns a stored event, or ErrEventNotFound.
	StripeEvent(ctx context.Context, id string) (StoredEvent, error)
	// CheckoutLicense returns the license of a checkout session, or
	// license.ErrNotFound.
	CheckoutLicense(ctx context.Context, tid tenant.ID, sessionID string) (license.License, error)
	// IssueCheckoutLicense creates the license of a checkout session, or
	// returns the one it already has.
	IssueCheckoutLicense(ctx context.Context, tid tenant.ID, issue Issue, cause string) (license.License, error)
}

// ErrEventNotFound is returned when no stored event has the ID.
var ErrEventNotFound = errors.New("stripe event not found")

// DefaultGracePeriod is how long a subscription's license stays valid
// after the paid period ends, so a renewal payment that succeeds a little
// late does not lock the buyer out.
const DefaultGracePeriod = 72 * time.Hour

// Options configure a Service.
type Options struct {
	Store  Store
	Hasher *license.Hasher
	// CheckoutKeySecret keys the derivation of a checkout session's license
	// key from its ID.
	CheckoutKeySecret string
	// WebhookSecrets are the signing secrets that Stripe events may be
	// signed with. Empty disables the webhook.
	WebhookSecrets []string
	// GracePeriod is added to a subscription's period end.
	GracePeriod time.Duration
	// Sessions retrieves checkout sessions from Stripe; nil disables the
	// fallback for sessions whose webhook has not arrived.
	Sessions SessionFetcher
	// ProcessTimeout bounds the database work for one event, so a hung
	// database turns into an error that Stripe retries. Zero means
	// DefaultProcessTimeout.
	ProcessTimeout time.Duration
	Logger         *slog.Logger
}

// DefaultProcessTimeout is the default bound on processing one event.
const DefaultProcessTimeout = 10 * time.Second

// Service verifies, records and applies Stripe events and serves checkout
// sessions' license keys.
type Service struct {
	store          Store
	hasher         *license.Hasher
	checkoutSecret string
	secrets        []string
	grace          time.Duration
	sessions       SessionFetcher
	timeout        time.Duration
	logger         *slog.Logger
	seenVersions   sync.Map
}

// NewService returns a Service. It returns an error when the checkout key
// secret is shorter than 32 characters.
func NewService(opts Options) (*Service, error) {
	if len(opts.CheckoutKeySecret) < 32 {
		return nil, errors.New("CHECKOUT_KEY_SECRET must be at least 32 characters; generate one with: openssl rand -hex 32")
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = DefaultGracePeriod
	}
	if opts.ProcessTimeout == 0 {
		opts.ProcessTimeout = DefaultProcessTimeout
	}
	return &Service{
		store: opts.Store, hasher: opts.Hasher, checkoutSecret: opts.CheckoutKeySecret,
		secrets: opts.WebhookSecrets, grace: opts.GracePeriod, sessions: opts.Sessions, timeout: opts.ProcessTimeout, logger: opts.Logger,
	}, nil
}

// Process applies a verified event exactly once and returns its outcome.
// A permanent failure is stored and returned as the outcome failed. An
// error means a transient failure, after which Stripe should send the
// event again.
func (s *Service) Process(ctx context.Context, ev Event) (Outcome, error) {
	return s.process(ctx, ev, false)
}

func (s *Service) process(ctx context.Context, ev Event, retry bool) (Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rec := Record{Event: ev, Retry: retry}
	eff, err := s.effectOf(ctx, ev)
	var (
		perm      *PermanentError
		unhandled errUnhandled
	)
	switch {
	case errors.As(err, &perm):
		rec.TenantID, rec.Status, rec.Reason = perm.TenantID, StatusFailed, perm.Reason
		return s.record(ctx, rec)
	case errors.As(err, &unhandled):
		rec.Status, rec.Reason = StatusIgnored, unhandled.reason
		return s.record(ctx, rec)
	case err != nil:
		return Outcome{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}

	rec.TenantID, rec.Status = eff.TenantID, StatusApplied
	out, err := s.store.ApplyStripeEvent(ctx, rec, eff)
	if errors.Is(err, tenant.ErrNotFound) {
		rec.Status, rec.Reason = StatusFailed, fmt.Sprintf("tenant %s does not exist", eff.TenantID)
		return s.record(ctx, rec)
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	s.logOutcome(ctx, rec, out)
	return out, nil
}

// record stores an event without effect and logs its outcome.
func (s *Service) record(ctx context.Context, rec Record) (Outcome, error) {
	stored, err := s.store.RecordStripeEvent(ctx, rec)
	if err != nil {
		return Outcome{}, fmt.Errorf("event %s: %w", rec.ID, err)
	}
	out := Outcome{Status: rec.Status, Reason: rec.Reason}
	if !stored {
		out = Outcome{Status: StatusDuplicate}
	}
	s.logOutcome(ctx, rec, out)
	return out, nil
}

func (s *Service) logOutcome(ctx context.Context, rec Record, out Outcome) {
	level := slog.LevelInfo
	if out.Status == StatusFailed {
		level = slog.LevelWarn
	}
	s.logger.Log(ctx, level, "stripe event processed", "event_id", rec.ID, "event_type", rec.Type,
		"tenant", string(rec.TenantID), "outcome", out.Status, "reason", out.Reason)
}

// Retry applies a stored failed event again, after an operator fixed its
// cause. It returns ErrEventNotFound for an unknown ID, and an error when
// the event did not fail.
func (s *Service) Retry(ctx context.Context, id string) (Outcome, error) {
	stored, err := s.store.StripeEvent(ctx, id)
	if err != nil {
		return Outcome{}, err
	}
	if stored.Status != StatusFailed {
		return Outcome{}, fmt.Errorf("event %s is %s; only failed events can be retried", id, stored.Status)
	}
	ev, err := ParseEvent(stored.Payload)
	if err != nil {
		return Outcome{}, fmt.Errorf("stored event %s: %w", id, err)
	}
	return s.process(ctx, ev, true)
}
