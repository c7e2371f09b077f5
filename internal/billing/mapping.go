package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// PermanentError is an event that can never be applied as it is, such as
// one for an unknown tenant or without the buyer's email. It is stored as
// failed and acknowledged, so Stripe stops sending it.
type PermanentError struct {
	TenantID tenant.ID
	Reason   string
}

func (e *PermanentError) Error() string { return e.Reason }

func permanent(tid tenant.ID, format string, args ...any) error {
	return &PermanentError{TenantID: tid, Reason: fmt.Sprintf(format, args...)}
}

// errUnhandled marks an event type or state that changes no license.
type errUnhandled struct{ reason string }

func (e errUnhandled) Error() string { return e.reason }

func ignore(format string, args ...any) error {
	return errUnhandled{reason: fmt.Sprintf(format, args...)}
}

// effectOf maps an event to its effect. It returns *PermanentError for an
// event that cannot be applied, errUnhandled for one that changes nothing,
// and any other error for a transient failure.
func (s *Service) effectOf(ctx context.Context, ev Event) (Effect, error) {
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded":
		return s.checkoutEffect(ctx, ev)
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		return s.subscriptionEffect(ctx, ev)
	case "invoice.paid":
		return s.invoiceEffect(ctx, ev)
	case "charge.refunded":
		return s.refundEffect(ctx, ev)
	case "charge.dispute.created", "charge.dispute.closed":
		return s.disputeEffect(ctx, ev)
	}
	return Effect{}, ignore("event type %s is not handled", ev.Type)
}

func decodeObject(ev Event, v any) error {
	if err := json.Unmarshal(ev.Object, v); err != nil {
		return permanent("", "data.object of %s is not a valid object: %v", ev.Type, err)
	}
	return nil
}

func (s *Service) checkoutEffect(ctx context.Context, ev Event) (Effect, error) {
	var sess checkoutSession
	if err := decodeObject(ev, &sess); err != nil {
		return Effect{}, err
	}
	tid, err := s.tenantOf(ctx, sess.Metadata)
	if err != nil {
		return Effect{}, err
	}
	issue, err := s.issueFor(tid, sess)
	if err != nil {
		return Effect{}, err
	}
	return Effect{TenantID: tid, Issue: issue}, nil
}

// issueFor returns the license to issue for a paid session.
func (s *Service) issueFor(tid tenant.ID, sess checkoutSession) (*Issue, error) {
	if sess.ID == "" {
		return nil, permanent(tid, "checkout session has no id")
	}
	if sess.PaymentStatus != "paid" && sess.PaymentStatus != "no_payment_required" {
		return nil, ignore("checkout session %s is %s; no license until it is paid", sess.ID, sess.PaymentStatus)
	}
	email := sess.CustomerEmail
	if sess.CustomerDetails != nil && sess.CustomerDetails.Email != "" {
		email = sess.CustomerDetails.Email
	}
	email = license.NormalizeEmail(email)
	if err := license.ValidateEmail(email); err != nil {
		return nil, permanent(tid, "checkout session %s: customer_details.email %v", sess.ID, err)
	}
	plan := sess.Metadata["plan"]
	if plan == "" {
		plan = license.DefaultPlan
	}
	key := license.CheckoutKey(s.checkoutSecret, sess.ID)
	return &Issue{
		SessionID: sess.ID, Email: email, Plan: plan,
		KeyHash: s.hasher.Hash(key), KeyPrefix: license.KeyPrefix(key),
		CustomerID: string(sess.Customer), SubscriptionID: string(sess.Subscription),
		PaymentIntentID: string(sess.PaymentIntent),
	}, nil
}

func (s *Service) subscriptionEffect(ctx context.Context, ev Event) (Effect, error) {
	var sub subscription
	if err := decodeObject(ev, &sub); err != nil {
		return Effect{}, err
	}
	if sub.ID == "" {
		return Effect{}, permanent("", "subscription has no id")
	}
	tid, err := s.tenantOf(ctx, sub.Metadata, sub.ID)
	if err != nil {
		return Effect{}, err
	}

	state := &SubscriptionState{SubscriptionID: sub.ID}
	status := sub.Status
	if ev.Type == "customer.subscription.deleted" {
		status = "canceled"
	}
	switch status {
	case "active", "trialing":
		state.Status = license.StatusActive
	case "past_due", "unpaid":
		state.Status = license.StatusSuspended
	case "canceled", "incomplete_expired":
		state.Status = license.StatusRevoked
	default:
		return Effect{}, ignore("subscription %s is %s, which changes no license", sub.ID, status)
	}

	if end := sub.periodEnd(); end > 0 && state.Status != license.StatusRevoked {
		state.ExpiresAt = s.withGrace(end)
	}
	return Effect{TenantID: tid, Subscription: state}, nil
}

func (s *Service) invoiceEffect(ctx context.Context, ev Event) (Effect, error) {
	var inv invoice
	if err := decodeObject(ev, &inv); err != nil {
		return Effect{}, err
	}
	subID, md := inv.subscriptionID()
	if subID == "" {
		return Effect{}, ignore("invoice %s belongs to no subscription", inv.ID)
	}
	tid, err := s.tenantOf(ctx, md, subID)
	if err != nil {
		return Effect{}, err
	}
	upd := &LicenseUpdate{
		SubscriptionID: subID,
		Status:         license.StatusActive,
		From:           []license.Status{license.StatusSuspended},
	}
	if end := inv.periodEnd(); end > 0 {
		upd.ExtendTo = s.withGrace(end)
	}
	return Effect{TenantID: tid, Update: upd}, nil
}

func (s *Service) refundEffect(ctx context.Context, ev Event) (Effect, error) {
	var ch charge
	if err := decodeObject(ev, &ch); err != nil {
		return Effect{}, err
	}
	if ch.PaymentIntent == "" {
		return Effect{}, ignore("charge %s has no payment intent", ch.ID)
	}
	if !ch.Refunded || ch.AmountRefunded < ch.Amount {
		return Effect{}, ignore("charge %s is refunded in part (%d of %d); the license stays", ch.ID, ch.AmountRefunded, ch.Amount)
	}
	tid, err := s.tenantOf(ctx, ch.Metadata, string(ch.PaymentIntent))
	if err != nil {
		return Effect{}, err
	}
	return Effect{TenantID: tid, Update: &LicenseUpdate{
		PaymentIntentID: string(ch.PaymentIntent), Status: license.StatusRevoked,
	}}, nil
}

func (s *Service) disputeEffect(ctx context.Context, ev Event) (Effect, error) {
	var d dispute
	if err := decodeObject(ev, &d); err != nil {
		return Effect{}, err
	}
	if d.PaymentIntent == "" {
		return Effect{}, ignore("dispute %s has no payment intent", d.ID)
	}
	upd := &LicenseUpdate{PaymentIntentID: string(d.PaymentIntent)}
	switch {
	case ev.Type == "charge.dispute.created":
		upd.Status = license.StatusSuspended
		upd.From = []license.Status{license.StatusActive}
	case d.Status == "won":
		upd.Status = license.StatusActive
		upd.From = []license.Status{license.StatusSuspended}
	case d.Status == "lost":
		upd.Status = license.StatusRevoked
	default:
		return Effect{}, ignore("dispute %s closed as %s, which changes no license", d.ID, d.Status)
	}
	tid, err := s.tenantOf(ctx, d.Metadata, string(d.PaymentIntent))
	if err != nil {
		return Effect{}, err
	}
	return Effect{TenantID: tid, Update: upd}, nil
}

// tenantOf returns the tenant in metadata.tenant_id, else the tenant of
// the first of stripeIDs linked to a license, else tenant.Default.
func (s *Service) tenantOf(ctx context.Context, metadata map[string]string, stripeIDs ...string) (tenant.ID, error) {
	if raw, ok := metadata["tenant_id"]; ok && raw != "" {
		tid, err := tenant.Parse(raw)
		if err != nil {
			return "", permanent("", "metadata.tenant_id: %v", err)
		}
		return tid, nil
	}
	tid, err := s.store.StripeObjectTenant(ctx, stripeIDs...)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.Default, nil
	}
	return tid, err
}

func (s *Service) withGrace(unix int64) *time.Time {
	t := time.Unix(unix, 0).UTC().Add(s.grace)
	return &t
}
