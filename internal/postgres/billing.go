package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// recordEventSQL inserts an event, or replaces a stored failed event when
// $9 (retry) is true. It returns no row when the ID is already recorded
// otherwise, which makes a redelivered event a no-op. A concurrent delivery
// of the same ID waits on the primary key until the first one commits.
const recordEventSQL = `
INSERT INTO stripe_events (id, type, api_version, created, tenant_id, status, reason, payload)
VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8)
ON CONFLICT (id) DO UPDATE
SET tenant_id = EXCLUDED.tenant_id, status = EXCLUDED.status, reason = EXCLUDED.reason, processed_at = now()
WHERE $9 AND stripe_events.status = 'failed'
RETURNING id`

func recordEvent(ctx context.Context, q querier, rec billing.Record) (bool, error) {
	var id string
	err := q.QueryRow(ctx, recordEventSQL, rec.ID, rec.Type, rec.APIVersion, rec.Created,
		string(rec.TenantID), rec.Status, rec.Reason, string(rec.Payload), rec.Retry).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record stripe event: %w", err)
	}
	return true, nil
}

// querier is the query method that pgx.Tx and pgxpool.Pool have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RecordStripeEvent stores an event that changes no license, such as an
// ignored or failed one. It returns false when the event ID is already
// recorded and rec.Retry does not allow replacing it.
func (db *DB) RecordStripeEvent(ctx context.Context, rec billing.Record) (bool, error) {
	return recordEvent(ctx, db.pool, rec)
}

// storedEventColumns lists the columns that scanStoredEvent reads.
const storedEventColumns = `id, type, created, COALESCE(tenant_id, ''), status, reason, payload, received_at, processed_at`

func scanStoredEvent(row pgx.Row) (billing.StoredEvent, error) {
	var (
		e       billing.StoredEvent
		payload string
	)
	err := row.Scan(&e.ID, &e.Type, &e.Created, &e.TenantID, &e.Status, &e.Reason, &payload, &e.ReceivedAt, &e.ProcessedAt)
	e.Payload = []byte(payload)
	return e, err
}

// StripeEvent returns the stored event with the ID, or
// billing.ErrEventNotFound.
func (db *DB) StripeEvent(ctx context.Context, id string) (billing.StoredEvent, error) {
	e, err := scanStoredEvent(db.pool.QueryRow(ctx, `SELECT `+storedEventColumns+` FROM stripe_events WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.StoredEvent{}, fmt.Errorf("%w: %s", billing.ErrEventNotFound, id)
	}
	if err != nil {
		return billing.StoredEvent{}, fmt.Errorf("get stripe event: %w", err)
	}
	return e, nil
}

// ListStripeEvents returns up to limit stored events, newest first, only
// failed ones when failedOnly is set.
func (db *DB) ListStripeEvents(ctx context.Context, failedOnly bool, limit int) ([]billing.StoredEvent, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+storedEventColumns+` FROM stripe_events
		WHERE NOT $1 OR status = 'failed'
		ORDER BY received_at DESC, id LIMIT $2`, failedOnly, limit)
	if err != nil {
		return nil, fmt.Errorf("list stripe events: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.StoredEvent, error) {
		return scanStoredEvent(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list stripe events: %w", err)
	}
	return list, nil
}

// StripeObjectTenant returns the tenant that owns the first of ids linked
// to a license, or tenant.ErrNotFound.
func (db *DB) StripeObjectTenant(ctx context.Context, ids ...string) (tenant.ID, error) {
	var tid string
	err := db.pool.QueryRow(ctx, `SELECT tenant_id FROM stripe_objects
		WHERE id = ANY($1) ORDER BY array_position($1, id) LIMIT 1`, ids).Scan(&tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", tenant.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("look up tenant of stripe object: %w", err)
	}
	return tenant.ID(tid), nil
}

// ApplyStripeEvent records the event and applies its effect in one
// transaction, then notifies listeners of every license it changed. It
// returns the outcome billing.StatusDuplicate when the event is already
// recorded, and tenant.ErrNotFound, with nothing recorded, when the tenant
// does not exist.
func (db *DB) ApplyStripeEvent(ctx context.Context, rec billing.Record, eff billing.Effect) (billing.Outcome, error) {
	var (
		out     billing.Outcome
		changed []license.License
	)
	err := db.inTenantTx(ctx, eff.TenantID, func(tx pgx.Tx) error {
		changed = nil
		if err := checkTenant(ctx, tx, eff.TenantID); err != nil {
			return err
		}
		recorded, err := recordEvent(ctx, tx, rec)
		if err != nil || !recorded {
			out = billing.Outcome{Status: billing.StatusDuplicate}
			return err
		}
		out, changed, err = applyEffect(ctx, tx, rec, eff)
		if err != nil || out.Status == billing.StatusApplied {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE stripe_events SET status = $2, reason = $3 WHERE id = $1`,
			rec.ID, out.Status, out.Reason)
		return err
	})
	if err != nil {
		return billing.Outcome{}, fmt.Errorf("apply stripe event: %w", err)
	}
	for _, l := range changed {
		db.notifyChange(ctx, eff.TenantID, l.Email, l.KeyHash)
	}
	return out, nil
}

func applyEffect(ctx context.Context, tx pgx.Tx, rec billing.Record, eff billing.Effect) (billing.Outcome, []license.License, error) {
	switch {
	case eff.Issue != nil:
		l, created, err := issueLicense(ctx, tx, eff.TenantID, *eff.Issue, rec.ID, &rec.Created)
		if err != nil || !created {
			return billing.Outcome{Status: billing.StatusApplied, Reason: "license already issued"}, nil, err
		}
		return billing.Outcome{Status: billing.StatusApplied}, []license.License{l}, nil
	case eff.Subscription != nil:
		return applySubscription(ctx, tx, eff.TenantID, *eff.Subscription, rec)
	case eff.Update != nil:
		return applyUpdate(ctx, tx, eff.TenantID, *eff.Update, rec)
	}
	return billing.Outcome{}, nil, errors.New("effect has nothing to apply")
}

// CheckoutLicense returns the tenant's license issued for a checkout
// session, or license.ErrNotFound.
func (db *DB) CheckoutLicense(ctx context.Context, tid tenant.ID, sessionID string) (license.License, error) {
	var l license.License
	err := db.inTenantTx(ctx, tid, func(tx pgx.Tx) error {
		var err error
		l, err = scanLicense(tx.QueryRow(ctx, `SELECT `+licenseColumns+` FROM licenses
			WHERE tenant_id = $1 AND stripe_checkout_session_id = $2`, string(tid), sessionID))
		return err
	})
	if err != nil && !errors.Is(err, license.ErrNotFound) {
		return license.License{}, fmt.Errorf("find checkout license: %w", err)
	}
	return l, err
}

// IssueCheckoutLicense creates the license of a checkout session outside
// any event, or returns the one it already has. cause is written to the
// license's history. It returns tenant.ErrNotFound for an unknown tenant.
func (db *DB) IssueCheckoutLicense(ctx context.Context, tid tenant.ID, issue billing.Issue, cause string) (license.License, error) {
	var (
		l       license.License
		created bool
	)
	err := db.inTenantTx(ctx, tid, func(tx pgx.Tx) error {
		if err := checkTenant(ctx, tx, tid); err != nil {
			return err
		}
		var err error
		l, created, err = issueLicense(ctx, tx, tid, issue, cause, nil)
		return err
	})
	if err != nil {
		return license.License{}, fmt.Errorf("issue checkout license: %w", err)
	}
	if created {
		db.notifyChange(ctx, tid, l.Email, l.KeyHash)
	}
	return l, nil
}

// nullable returns nil for an empty string, so optional Stripe IDs are
// stored as NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// laterOf returns the later of two optional times.
func laterOf(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}
