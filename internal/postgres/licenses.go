package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// licenseColumns lists the columns that scanLicense reads, in its order.
const licenseColumns = `id, tenant_id, email, key_prefix, key_hash, status, plan, expires_at, created_at, updated_at`

// ErrAmbiguousRef is returned when a reference matches more than one license.
var ErrAmbiguousRef = errors.New("reference matches more than one license; use the license ID")

func scanLicense(row pgx.Row) (license.License, error) {
	var l license.License
	err := row.Scan(&l.ID, &l.TenantID, &l.Email, &l.KeyPrefix, &l.KeyHash, &l.Status, &l.Plan,
		&l.ExpiresAt, &l.CreatedAt, &l.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return license.License{}, license.ErrNotFound
	}
	return l, err
}

// FindByKey returns the license of the tenant with the given key hash and
// email, or license.ErrNotFound. It sends the tenant setting and the lookup
// as one batch, which PostgreSQL runs as one implicit transaction, so a
// verification costs one round trip.
func (db *DB) FindByKey(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) (license.License, error) {
	if !tenantID.Valid() {
		return license.License{}, tenant.ErrMissing
	}
	batch := &pgx.Batch{}
	batch.Queue(setTenantSQL, string(tenantID), db.statementTimeout)
	batch.Queue(`SELECT `+licenseColumns+` FROM licenses
		WHERE tenant_id = $1 AND key_hash = $2 AND email = $3`,
		string(tenantID), keyHash, email)

	results := db.pool.SendBatch(ctx, batch)
	defer results.Close()
	if _, err := results.Exec(); err != nil {
		return license.License{}, fmt.Errorf("set tenant: %w", err)
	}
	l, err := scanLicense(results.QueryRow())
	if err != nil && !errors.Is(err, license.ErrNotFound) {
		return license.License{}, fmt.Errorf("find license: %w", err)
	}
	return l, err
}

// NewLicense holds the fields of a license to create.
type NewLicense struct {
	Email     string
	KeyHash   []byte
	KeyPrefix string
	Status    license.Status
	Plan      string
	ExpiresAt *time.Time
}

// CreateLicense inserts a license and its customer. It returns
// tenant.ErrNotFound when the tenant does not exist.
func (db *DB) CreateLicense(ctx context.Context, tenantID tenant.ID, nl NewLicense) (license.License, error) {
	var l license.License
	err := db.inTenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := checkTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := upsertCustomer(ctx, tx, tenantID, nl.Email); err != nil {
			return err
		}
		var err error
		l, err = scanLicense(tx.QueryRow(ctx, `
			INSERT INTO licenses (tenant_id, email, key_hash, key_prefix, status, plan, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+licenseColumns,
			string(tenantID), nl.Email, nl.KeyHash, nl.KeyPrefix, nl.Status, nl.Plan, nl.ExpiresAt))
		if pgErrorCode(err) == codeUniqueViolation {
			return errors.New("a license with this key already exists in the tenant")
		}
		return err
	})
	if err != nil {
		return license.License{}, fmt.Errorf("create license: %w", err)
	}
	db.notifyChange(ctx, tenantID, l.Email, l.KeyHash)
	return l, nil
}

func upsertCustomer(ctx context.Context, tx pgx.Tx, tenantID tenant.ID, email string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO customers (tenant_id, email) VALUES ($1, $2)
		ON CONFLICT (tenant_id, email) DO NOTHING`, string(tenantID), email)
	if err != nil {
		return fmt.Errorf("upsert customer: %w", err)
	}
	return nil
}

// Ref names one license by its ID or by the hash of its key. Either field
// may be empty.
type Ref struct {
	ID      string
	KeyHash []byte
}

// refCondition matches $2 as a license ID (NULL when absent) or $3 as a key
// hash, always inside tenant $1.
const refCondition = `tenant_id = $1 AND (id = $2::uuid OR key_hash = $3)`

func refArgs(tenantID tenant.ID, ref Ref) []any {
	var id *string
	if ref.ID != "" {
		id = &ref.ID
	}
	return []any{string(tenantID), id, ref.KeyHash}
}

// ListLicenses returns the tenant's licenses, newest first, limited to one
// email when email is not empty. It returns tenant.ErrNotFound for an
// unknown tenant.
func (db *DB) ListLicenses(ctx context.Context, tenantID tenant.ID, email string) ([]license.License, error) {
	var list []license.License
	err := db.inTenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := checkTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+licenseColumns+` FROM licenses
			WHERE tenant_id = $1 AND ($2 = '' OR email = $2)
			ORDER BY created_at DESC, id`, string(tenantID), email)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (license.License, error) {
			return scanLicense(row)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	return list, nil
}

// allowedFrom lists, for each target status, the statuses an operator may
// move a license from.
var allowedFrom = map[license.Status][]license.Status{
	license.StatusRevoked:   {license.StatusActive, license.StatusSuspended, license.StatusExpired},
	license.StatusSuspended: {license.StatusActive},
	license.StatusActive:    {license.StatusSuspended, license.StatusRevoked},
}

// ErrTransition is returned when a license cannot move to the requested
// status from its current one.
var ErrTransition = errors.New("status change not allowed")

// OperatorCause is the cause recorded in a license's history for a status
// change made with the licensing command.
const OperatorCause = "operator"

// SetStatus moves the referenced license to status, records the change in
// its history, and returns it with changed set, or unchanged when it
// already had that status. It returns
// license.ErrNotFound, ErrAmbiguousRef or ErrTransition.
func (db *DB) SetStatus(ctx context.Context, tenantID tenant.ID, ref Ref, status license.Status) (l license.License, changed bool, err error) {
	err = db.inTenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		l, err = lockLicense(ctx, tx, tenantID, ref)
		if err != nil || l.Status == status {
			return err
		}
		if !canMove(l.Status, status) {
			return fmt.Errorf("%w: license %s is %s and cannot become %s", ErrTransition, l.ID, l.Status, status)
		}
		from := l.Status
		l, err = scanLicense(tx.QueryRow(ctx, `
			UPDATE licenses SET status = $3, updated_at = now()
			WHERE tenant_id = $1 AND id = $2
			RETURNING `+licenseColumns, string(tenantID), l.ID, status))
		if err != nil {
			return err
		}
		changed = true
		return insertLicenseEvent(ctx, tx, tenantID, l.ID, from, status, OperatorCause)
	})
	if err != nil {
		return license.License{}, false, fmt.Errorf("set license status: %w", err)
	}
	if changed {
		db.notifyChange(ctx, tenantID, l.Email, l.KeyHash)
	}
	return l, changed, nil
}

func canMove(from, to license.Status) bool {
	for _, s := range allowedFrom[to] {
		if s == from {
			return true
		}
	}
	return false
}

// lockLicense returns the referenced license and locks its row until the
// transaction ends.
func lockLicense(ctx context.Context, tx pgx.Tx, tenantID tenant.ID, ref Ref) (license.License, error) {
	rows, err := tx.Query(ctx, `SELECT `+licenseColumns+` FROM licenses
		WHERE `+refCondition+` LIMIT 2 FOR UPDATE`, refArgs(tenantID, ref)...)
	if err != nil {
		return license.License{}, err
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (license.License, error) {
		return scanLicense(row)
	})
	switch {
	case err != nil:
		return license.License{}, err
	case len(found) == 0:
		return license.License{}, license.ErrNotFound
	case len(found) > 1:
		return license.License{}, ErrAmbiguousRef
	}
	return found[0], nil
}
