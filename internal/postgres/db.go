// Package postgres stores tenants and licenses in PostgreSQL through pgx.
// Every statement on tenant-owned tables runs in a transaction that first
// sets app.tenant_id, which the row-level security policies compare with
// each row's tenant_id.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rescuepc/licensing/internal/tenant"
)

// setTenantSQL scopes the current transaction to one tenant and sets its
// statement timeout. The third argument of set_config makes each setting
// local to the transaction, so a pooled connection, or a PgBouncer server
// connection in transaction mode, never carries them into the next
// transaction.
const setTenantSQL = `SELECT set_config('app.tenant_id', $1, true), set_config('statement_timeout', $2, true)`

// DB is a pool of connections to the licensing database.
type DB struct {
	pool      *pgxpool.Pool
	listeners []ChangeListener
	// statementTimeout is the value for set_config('statement_timeout'),
	// in milliseconds.
	statementTimeout string
}

// ChangeListener is called after a transaction that inserted or changed a
// license has committed, with the license's tenant, email and key hash. A
// verdict cache uses it to drop entries in the same code path as the write.
type ChangeListener func(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte)

// OnLicenseChange registers fn to be called after every committed insert or
// change of a license. Register listeners before serving; the list is not
// safe to change concurrently with writes.
func (db *DB) OnLicenseChange(fn ChangeListener) {
	db.listeners = append(db.listeners, fn)
}

func (db *DB) notifyChange(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) {
	for _, fn := range db.listeners {
		fn(ctx, tenantID, email, keyHash)
	}
}

// Open connects to the database at url with DefaultOptions and checks that
// it responds.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWithOptions(ctx, url, DefaultOptions())
}

// Close closes every connection in the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database responds to a query.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, ";")
	return err
}

// inTenantTx runs fn in a transaction scoped to tenantID. It returns
// tenant.ErrMissing, without touching the database, when tenantID is empty.
func (db *DB) inTenantTx(ctx context.Context, tenantID tenant.ID, fn func(pgx.Tx) error) error {
	if !tenantID.Valid() {
		return tenant.ErrMissing
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, setTenantSQL, string(tenantID), db.statementTimeout); err != nil {
			return fmt.Errorf("set tenant: %w", err)
		}
		return fn(tx)
	})
}

// pgErrorCode returns the SQLSTATE of err, or "" when err is not from the
// server.
func pgErrorCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// SQLSTATE codes handled by this package.
const (
	codeUniqueViolation       = "23505"
	codeInsufficientPrivilege = "42501"
)
