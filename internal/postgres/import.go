package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/tenant"
)

// ImportLicense is one license to import, with the line it came from.
type ImportLicense struct {
	Line int
	NewLicense
}

// ImportResult counts what an import did.
type ImportResult struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// ImportConflictError lists lines whose key already belongs to a license of
// another email in the tenant.
type ImportConflictError struct {
	Lines []int
}

func (e *ImportConflictError) Error() string {
	return fmt.Sprintf("license_key on line(s) %v already belongs to another email in the tenant; nothing was imported", e.Lines)
}

// importUpsertSQL inserts a license, or updates the status, plan and expiry
// of the tenant's license with the same key and email. It returns no row
// when the stored license already matches or has another email.
const importUpsertSQL = `
INSERT INTO licenses (tenant_id, email, key_hash, key_prefix, status, plan, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, key_hash) DO UPDATE
SET status = EXCLUDED.status, plan = EXCLUDED.plan, expires_at = EXCLUDED.expires_at, updated_at = now()
WHERE licenses.email = EXCLUDED.email
  AND (licenses.status, licenses.plan, licenses.expires_at)
      IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.plan, EXCLUDED.expires_at)
RETURNING xmax = 0`

// ImportLicenses writes every license in one transaction, so either all are
// imported or none. Importing the same licenses again changes nothing and
// counts them as unchanged. It returns tenant.ErrNotFound for an unknown
// tenant and *ImportConflictError when a key belongs to another email.
func (db *DB) ImportLicenses(ctx context.Context, tenantID tenant.ID, list []ImportLicense) (ImportResult, error) {
	var (
		res     ImportResult
		changed []ImportLicense
	)
	err := db.inTenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := checkTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		var conflicts []int
		for _, l := range list {
			outcome, err := importOne(ctx, tx, tenantID, l)
			if err != nil {
				return fmt.Errorf("line %d: %w", l.Line, err)
			}
			switch outcome {
			case importInserted:
				res.Inserted++
				changed = append(changed, l)
			case importUpdated:
				res.Updated++
				changed = append(changed, l)
			case importUnchanged:
				res.Unchanged++
			case importConflict:
				conflicts = append(conflicts, l.Line)
			}
		}
		if len(conflicts) > 0 {
			return &ImportConflictError{Lines: conflicts}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO customers (tenant_id, email)
			SELECT DISTINCT tenant_id, email FROM licenses WHERE tenant_id = $1
			ON CONFLICT (tenant_id, email) DO NOTHING`, string(tenantID))
		return err
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import licenses: %w", err)
	}
	for _, l := range changed {
		db.notifyChange(ctx, tenantID, l.Email, l.KeyHash)
	}
	return res, nil
}

type importOutcome int

const (
	importInserted importOutcome = iota
	importUpdated
	importUnchanged
	importConflict // the key belongs to a license of another email
)

func importOne(ctx context.Context, tx pgx.Tx, tenantID tenant.ID, l ImportLicense) (importOutcome, error) {
	var inserted bool
	err := tx.QueryRow(ctx, importUpsertSQL, string(tenantID), l.Email, l.KeyHash, l.KeyPrefix,
		l.Status, l.Plan, l.ExpiresAt).Scan(&inserted)
	switch {
	case err == nil && inserted:
		return importInserted, nil
	case err == nil:
		return importUpdated, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, err
	}

	var sameEmail bool
	err = tx.QueryRow(ctx, `SELECT email = $3 FROM licenses WHERE tenant_id = $1 AND key_hash = $2`,
		string(tenantID), l.KeyHash, l.Email).Scan(&sameEmail)
	switch {
	case err != nil:
		return 0, err
	case sameEmail:
		return importUnchanged, nil
	}
	return importConflict, nil
}
