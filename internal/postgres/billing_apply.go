package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// subscriptionRow is a stored subscription state.
type subscriptionRow struct {
	status       license.Status
	expiresAt    *time.Time
	eventCreated time.Time
}

// issueLicense inserts the license of a checkout session with the state of
// its subscription when a subscription event came first. It returns the
// existing license and false when the session already has one. created is
// the time of the event that issues it, or nil outside an event.
func issueLicense(ctx context.Context, tx pgx.Tx, tid tenant.ID, is billing.Issue, cause string, created *time.Time) (license.License, bool, error) {
	status, expiresAt, last := license.StatusActive, (*time.Time)(nil), created
	if sub, ok, err := storedSubscription(ctx, tx, tid, is.SubscriptionID); err != nil {
		return license.License{}, false, err
	} else if ok {
		status, expiresAt, last = sub.status, sub.expiresAt, laterOf(created, &sub.eventCreated)
	}
	if err := upsertStripeCustomer(ctx, tx, tid, is.Email, is.CustomerID); err != nil {
		return license.License{}, false, err
	}

	l, err := scanLicense(tx.QueryRow(ctx, `
		INSERT INTO licenses (tenant_id, email, key_hash, key_prefix, status, plan, expires_at,
			stripe_customer_id, stripe_subscription_id, stripe_payment_intent_id,
			stripe_checkout_session_id, last_event_created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT DO NOTHING
		RETURNING `+licenseColumns,
		string(tid), is.Email, is.KeyHash, is.KeyPrefix, status, is.Plan, expiresAt,
		nullable(is.CustomerID), nullable(is.SubscriptionID), nullable(is.PaymentIntentID), is.SessionID, last))
	if errors.Is(err, license.ErrNotFound) {
		l, err = scanLicense(tx.QueryRow(ctx, `SELECT `+licenseColumns+` FROM licenses
			WHERE tenant_id = $1 AND stripe_checkout_session_id = $2`, string(tid), is.SessionID))
		return l, false, err
	}
	if err != nil {
		return license.License{}, false, fmt.Errorf("insert checkout license: %w", err)
	}

	if err := linkStripeObjects(ctx, tx, tid, is.SubscriptionID, is.PaymentIntentID, is.CustomerID); err != nil {
		return license.License{}, false, err
	}
	return l, true, insertLicenseEvent(ctx, tx, tid, l.ID, "", l.Status, cause)
}

func storedSubscription(ctx context.Context, tx pgx.Tx, tid tenant.ID, id string) (subscriptionRow, bool, error) {
	if id == "" {
		return subscriptionRow{}, false, nil
	}
	var s subscriptionRow
	err := tx.QueryRow(ctx, `SELECT status, expires_at, event_created FROM stripe_subscriptions
		WHERE tenant_id = $1 AND id = $2`, string(tid), id).Scan(&s.status, &s.expiresAt, &s.eventCreated)
	if errors.Is(err, pgx.ErrNoRows) {
		return subscriptionRow{}, false, nil
	}
	if err != nil {
		return subscriptionRow{}, false, fmt.Errorf("read subscription state: %w", err)
	}
	return s, true, nil
}

func upsertStripeCustomer(ctx context.Context, tx pgx.Tx, tid tenant.ID, email, customerID string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO customers (tenant_id, email, stripe_customer_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, email) DO UPDATE
		SET stripe_customer_id = COALESCE(EXCLUDED.stripe_customer_id, customers.stripe_customer_id)`,
		string(tid), email, nullable(customerID))
	if err != nil {
		return fmt.Errorf("upsert customer: %w", err)
	}
	return nil
}

// linkStripeObjects records the tenant of each non-empty Stripe ID, for
// events that carry no tenant metadata.
func linkStripeObjects(ctx context.Context, tx pgx.Tx, tid tenant.ID, ids ...string) error {
	for _, id := range ids {
		if id == "" {
			continue
		}
		_, err := tx.Exec(ctx, `INSERT INTO stripe_objects (id, tenant_id) VALUES ($1, $2)
			ON CONFLICT (id) DO NOTHING`, id, string(tid))
		if err != nil {
			return fmt.Errorf("link stripe object: %w", err)
		}
	}
	return nil
}

// insertLicenseEvent writes one row of a license's status history. from is
// empty when the license was just issued.
func insertLicenseEvent(ctx context.Context, tx pgx.Tx, tid tenant.ID, licenseID string, from, to license.Status, cause string) error {
	_, err := tx.Exec(ctx, `INSERT INTO license_events (tenant_id, license_id, from_status, to_status, cause)
		VALUES ($1, $2, NULLIF($3, ''), $4, $5)`, string(tid), licenseID, string(from), string(to), cause)
	if err != nil {
		return fmt.Errorf("insert license event: %w", err)
	}
	return nil
}

// applySubscription stores the subscription's state unless a later event
// already stored one, then applies it to the subscription's licenses.
func applySubscription(ctx context.Context, tx pgx.Tx, tid tenant.ID, st billing.SubscriptionState, rec billing.Record) (billing.Outcome, []license.License, error) {
	_, err := tx.Exec(ctx, `
		INSERT INTO stripe_subscriptions (tenant_id, id, status, expires_at, event_created)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, id) DO UPDATE
		SET status = EXCLUDED.status, expires_at = COALESCE(EXCLUDED.expires_at, stripe_subscriptions.expires_at),
		    event_created = EXCLUDED.event_created
		WHERE stripe_subscriptions.event_created <= EXCLUDED.event_created`,
		string(tid), st.SubscriptionID, st.Status, st.ExpiresAt, rec.Created)
	if err != nil {
		return billing.Outcome{}, nil, fmt.Errorf("store subscription state: %w", err)
	}
	upd := billing.LicenseUpdate{SubscriptionID: st.SubscriptionID, Status: st.Status, ExtendTo: st.ExpiresAt}
	out, changed, err := applyUpdate(ctx, tx, tid, upd, rec)
	if out.Status == billing.StatusIgnored && len(changed) == 0 && out.Reason == noLicenseReason {
		out = billing.Outcome{Status: billing.StatusApplied, Reason: "no license yet; state kept for the checkout"}
	}
	return out, changed, err
}

const noLicenseReason = "no license is linked to the event's object"

// applyUpdate changes every license linked to the update's subscription or
// payment intent, skipping a license whose last applied event is newer
// than this one and a revoked license.
func applyUpdate(ctx context.Context, tx pgx.Tx, tid tenant.ID, upd billing.LicenseUpdate, rec billing.Record) (billing.Outcome, []license.License, error) {
	targets, err := lockLinkedLicenses(ctx, tx, tid, upd)
	if err != nil {
		return billing.Outcome{}, nil, err
	}
	if len(targets) == 0 {
		return billing.Outcome{Status: billing.StatusIgnored, Reason: noLicenseReason}, nil, nil
	}

	out := billing.Outcome{Status: billing.StatusApplied}
	var changed []license.License
	for _, t := range targets {
		l, reason, err := updateLicense(ctx, tx, tid, t, upd, rec)
		switch {
		case err != nil:
			return billing.Outcome{}, nil, err
		case reason != "":
			out = billing.Outcome{Status: billing.StatusIgnored, Reason: reason}
		default:
			changed = append(changed, l)
		}
	}
	return out, changed, nil
}

// linkedLicense is a license with the time of its last applied event.
type linkedLicense struct {
	license.License
	lastEvent *time.Time
}

func lockLinkedLicenses(ctx context.Context, tx pgx.Tx, tid tenant.ID, upd billing.LicenseUpdate) ([]linkedLicense, error) {
	rows, err := tx.Query(ctx, `SELECT `+licenseColumns+`, last_event_created FROM licenses
		WHERE tenant_id = $1 AND (stripe_subscription_id = $2 OR stripe_payment_intent_id = $3)
		ORDER BY id FOR UPDATE`, string(tid), nullable(upd.SubscriptionID), nullable(upd.PaymentIntentID))
	if err != nil {
		return nil, fmt.Errorf("lock linked licenses: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (linkedLicense, error) {
		var l linkedLicense
		err := row.Scan(&l.ID, &l.TenantID, &l.Email, &l.KeyPrefix, &l.KeyHash, &l.Status, &l.Plan,
			&l.ExpiresAt, &l.CreatedAt, &l.UpdatedAt, &l.lastEvent)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("lock linked licenses: %w", err)
	}
	return list, nil
}

// updateLicense applies upd to one license. It returns a reason instead of
// a license when the event must not change it.
func updateLicense(ctx context.Context, tx pgx.Tx, tid tenant.ID, t linkedLicense, upd billing.LicenseUpdate, rec billing.Record) (license.License, string, error) {
	// NOTE: Stripe's created has a resolution of one second, so two events
	// of the same second apply in the order they arrive.
	if t.lastEvent != nil && rec.Created.Before(*t.lastEvent) {
		return license.License{}, fmt.Sprintf("event is older than the last event applied to license %s", t.ID), nil
	}
	if t.Status == license.StatusRevoked {
		return license.License{}, fmt.Sprintf("license %s is revoked", t.ID), nil
	}
	status := t.Status
	if upd.Status != "" && (len(upd.From) == 0 || slices.Contains(upd.From, t.Status)) {
		status = upd.Status
	}
	expiresAt := t.ExpiresAt
	if upd.ExtendTo != nil {
		expiresAt = laterOf(t.ExpiresAt, upd.ExtendTo)
	}

	l, err := scanLicense(tx.QueryRow(ctx, `
		UPDATE licenses SET status = $3, expires_at = $4, updated_at = now(),
			last_event_created = GREATEST(last_event_created, $5)
		WHERE tenant_id = $1 AND id = $2
		RETURNING `+licenseColumns, string(tid), t.ID, status, expiresAt, rec.Created))
	if err != nil {
		return license.License{}, "", fmt.Errorf("update license: %w", err)
	}
	if status != t.Status {
		err = insertLicenseEvent(ctx, tx, tid, l.ID, t.Status, status, rec.ID)
	}
	return l, "", err
}
