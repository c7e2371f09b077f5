package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// LicenseEvent is one status change in a license's history.
type LicenseEvent struct {
	// From is empty for the row written when the license was issued.
	From license.Status
	To   license.Status
	// Cause is a Stripe event ID, OperatorCause, or how a license issued
	// outside an event came to be.
	Cause     string
	CreatedAt time.Time
}

// LicenseHistory returns the referenced license and its status changes,
// oldest first. It returns license.ErrNotFound or ErrAmbiguousRef.
func (db *DB) LicenseHistory(ctx context.Context, tenantID tenant.ID, ref Ref) (license.License, []LicenseEvent, error) {
	var (
		l      license.License
		events []LicenseEvent
	)
	err := db.inTenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		if l, err = lockLicense(ctx, tx, tenantID, ref); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT COALESCE(from_status, ''), to_status, cause, created_at
			FROM license_events WHERE tenant_id = $1 AND license_id = $2 ORDER BY id`, string(tenantID), l.ID)
		if err != nil {
			return err
		}
		events, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (LicenseEvent, error) {
			var e LicenseEvent
			err := row.Scan(&e.From, &e.To, &e.Cause, &e.CreatedAt)
			return e, err
		})
		return err
	})
	if err != nil {
		return license.License{}, nil, fmt.Errorf("license history: %w", err)
	}
	return l, events, nil
}
