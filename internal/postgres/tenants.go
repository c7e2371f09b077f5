package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/tenant"
)

// CreateTenant inserts a tenant. It returns tenant.ErrExists when the ID is
// taken.
func (db *DB) CreateTenant(ctx context.Context, id tenant.ID, name string) (tenant.Tenant, error) {
	if !id.Valid() {
		return tenant.Tenant{}, tenant.ErrMissing
	}
	t := tenant.Tenant{ID: id}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO tenants (id, name) VALUES ($1, $2)
		RETURNING name, created_at`, string(id), name).Scan(&t.Name, &t.CreatedAt)
	if pgErrorCode(err) == codeUniqueViolation {
		return tenant.Tenant{}, fmt.Errorf("%w: %s", tenant.ErrExists, id)
	}
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("insert tenant: %w", err)
	}
	return t, nil
}

// ListTenants returns every tenant ordered by ID.
func (db *DB) ListTenants(ctx context.Context) ([]tenant.Tenant, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tenant.Tenant, error) {
		var t tenant.Tenant
		err := row.Scan(&t.ID, &t.Name, &t.CreatedAt)
		return t, err
	})
}

// checkTenant returns tenant.ErrNotFound unless the tenant exists.
func checkTenant(ctx context.Context, tx pgx.Tx, id tenant.ID) error {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)`, string(id)).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up tenant: %w", err)
	}
	if !exists {
		return fmt.Errorf("%w: %s (see 'licensing tenants list')", tenant.ErrNotFound, id)
	}
	return nil
}
