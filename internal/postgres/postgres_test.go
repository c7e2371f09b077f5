package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

const testSecret = "test-secret-test-secret-test-secret-0123"

func mustOpen(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func mustHasher(t testing.TB) *license.Hasher {
	t.Helper()
	h, err := license.NewHasher(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustTenant(t testing.TB, db *postgres.DB, id tenant.ID) {
	t.Helper()
	if _, err := db.CreateTenant(context.Background(), id, string(id)); err != nil {
		t.Fatal(err)
	}
}

func mustLicense(t testing.TB, db *postgres.DB, h *license.Hasher, tid tenant.ID, email, key string) license.License {
	t.Helper()
	l, err := db.CreateLicense(context.Background(), tid, postgres.NewLicense{
		Email: email, KeyHash: h.Hash(key), KeyPrefix: license.KeyPrefix(key),
		Status: license.StatusActive, Plan: "pro",
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustConnect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// mustBeginAs begins a transaction on conn scoped to tenant id, as the
// store does.
func mustBeginAs(t testing.TB, conn *pgx.Conn, id tenant.ID) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, string(id)); err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestFindByKeyScopedToTenant(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	mustTenant(t, db, "acme")
	mustLicense(t, db, h, "acme", "user@example.com", "KEY-A")
	mustLicense(t, db, h, tenant.Default, "user@example.com", "KEY-D")

	if _, err := db.FindByKey(ctx, "acme", "user@example.com", h.Hash("KEY-A")); err != nil {
		t.Errorf("own key in own tenant: %v", err)
	}
	if _, err := db.FindByKey(ctx, tenant.Default, "user@example.com", h.Hash("KEY-A")); !errors.Is(err, license.ErrNotFound) {
		t.Errorf("acme key in default tenant: err = %v, want ErrNotFound", err)
	}
	if _, err := db.FindByKey(ctx, "acme", "other@example.com", h.Hash("KEY-A")); !errors.Is(err, license.ErrNotFound) {
		t.Errorf("right key, wrong email: err = %v, want ErrNotFound", err)
	}
	if _, err := db.FindByKey(ctx, "", "user@example.com", h.Hash("KEY-A")); !errors.Is(err, tenant.ErrMissing) {
		t.Errorf("empty tenant: err = %v, want tenant.ErrMissing", err)
	}
}

func TestRowSecurityAsAppRole(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	mustTenant(t, db, "acme")
	mustLicense(t, db, h, "acme", "a@example.com", "KEY-A")
	mustLicense(t, db, h, tenant.Default, "d@example.com", "KEY-D")
	conn := mustConnect(t, tdb.AppURL)

	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM licenses`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("no tenant set: saw %d licenses, want 0", n)
	}

	tx := mustBeginAs(t, conn, "acme")
	defer tx.Rollback(ctx)
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM licenses WHERE tenant_id = 'default'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("tenant acme: saw %d default licenses, want 0", n)
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("tenant acme: saw %d customers, want its own 1", n)
	}
	tag, err := tx.Exec(ctx, `UPDATE licenses SET plan = 'stolen' WHERE tenant_id = 'default'`)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 0 {
		t.Errorf("tenant acme updated %d default licenses, want 0", tag.RowsAffected())
	}
}

func TestRowSecurityRejectsCrossTenantWrites(t *testing.T) {
	tdb := pgtest.New(t)
	db, ctx := mustOpen(t, tdb.AppURL), context.Background()
	mustTenant(t, db, "acme")
	conn := mustConnect(t, tdb.AppURL)

	cases := map[string]string{
		"insert": `INSERT INTO licenses (tenant_id, email, key_hash, key_prefix)
			VALUES ('default', 'x@example.com', decode(repeat('ab', 32), 'hex'), 'ABCD')`,
		"insert without tenant column": `INSERT INTO licenses (email, key_hash, key_prefix)
			VALUES ('x@example.com', decode(repeat('cd', 32), 'hex'), 'ABCD')`,
		"customer insert": `INSERT INTO customers (tenant_id, email) VALUES ('default', 'x@example.com')`,
	}
	for name, stmt := range cases {
		t.Run(name, func(t *testing.T) {
			tx := mustBeginAs(t, conn, "acme")
			defer tx.Rollback(ctx)
			_, err := tx.Exec(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "row-level security") {
				t.Errorf("err = %v, want a row-level security violation", err)
			}
		})
	}
}

func TestRowSecurityRejectsMovingRowToOtherTenant(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	mustTenant(t, db, "acme")
	mustLicense(t, db, h, "acme", "a@example.com", "KEY-A")
	conn := mustConnect(t, tdb.AppURL)

	tx := mustBeginAs(t, conn, "acme")
	defer tx.Rollback(ctx)
	_, err := tx.Exec(ctx, `UPDATE licenses SET tenant_id = 'default'`)
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("err = %v, want a row-level security violation", err)
	}
}

func TestCheckRowSecurity(t *testing.T) {
	tdb := pgtest.New(t)
	if err := mustOpen(t, tdb.AppURL).CheckRowSecurity(context.Background()); err != nil {
		t.Errorf("app role: %v", err)
	}
	err := mustOpen(t, tdb.AdminURL).CheckRowSecurity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("superuser: err = %v, want an error that names DATABASE_URL", err)
	}
}

func TestVerificationLookupUsesIndex(t *testing.T) {
	tdb := pgtest.New(t)
	admin := mustConnect(t, tdb.AdminURL)
	ctx := context.Background()
	// Enough rows that a sequential scan is not the cheapest plan, with
	// several licenses per email as resellers and families have.
	_, err := admin.Exec(ctx, `
		INSERT INTO licenses (tenant_id, email, key_hash, key_prefix)
		SELECT 'default', 'user' || (i % 50) || '@example.com', sha256(int4send(i)), 'ABCD'
		FROM generate_series(1, 5000) AS i;
		ANALYZE licenses`)
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	err = admin.QueryRow(ctx, `EXPLAIN (COSTS OFF) SELECT id FROM licenses
		WHERE tenant_id = 'default' AND key_hash = sha256(int4send(42)) AND email = 'user42@example.com'`).Scan(&plan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "Index Scan using licenses_tenant_key_hash_key") {
		t.Errorf("plan = %q, want an index scan on licenses_tenant_key_hash_key", plan)
	}
}

func TestSetStatus(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	l := mustLicense(t, db, h, tenant.Default, "a@example.com", "KEY-A")

	got, changed, err := db.SetStatus(ctx, tenant.Default, postgres.Ref{KeyHash: h.Hash("KEY-A")}, license.StatusSuspended)
	if err != nil || !changed || got.Status != license.StatusSuspended {
		t.Fatalf("suspend by key: status %s, changed %v, err %v", got.Status, changed, err)
	}
	_, changed, err = db.SetStatus(ctx, tenant.Default, postgres.Ref{ID: l.ID}, license.StatusSuspended)
	if err != nil || changed {
		t.Errorf("suspend again: changed %v, err %v; want unchanged", changed, err)
	}
	got, _, err = db.SetStatus(ctx, tenant.Default, postgres.Ref{ID: l.ID}, license.StatusRevoked)
	if err != nil || got.Status != license.StatusRevoked {
		t.Errorf("revoke by ID: status %s, err %v", got.Status, err)
	}
	if _, _, err := db.SetStatus(ctx, tenant.Default, postgres.Ref{ID: l.ID}, license.StatusSuspended); !errors.Is(err, postgres.ErrTransition) {
		t.Errorf("suspend revoked: err = %v, want ErrTransition", err)
	}
	if _, _, err := db.SetStatus(ctx, "acme", postgres.Ref{ID: l.ID}, license.StatusActive); !errors.Is(err, license.ErrNotFound) {
		t.Errorf("other tenant: err = %v, want ErrNotFound", err)
	}
}

func TestCreateLicenseUnknownTenant(t *testing.T) {
	tdb := pgtest.New(t)
	db, h := mustOpen(t, tdb.AppURL), mustHasher(t)
	_, err := db.CreateLicense(context.Background(), "nobody", postgres.NewLicense{
		Email: "a@example.com", KeyHash: h.Hash("K"), KeyPrefix: "K", Status: license.StatusActive, Plan: "pro",
	})
	if !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("err = %v, want tenant.ErrNotFound", err)
	}
}

func TestCreateTenantTwice(t *testing.T) {
	tdb := pgtest.New(t)
	db := mustOpen(t, tdb.AppURL)
	mustTenant(t, db, "acme")
	if _, err := db.CreateTenant(context.Background(), "acme", "again"); !errors.Is(err, tenant.ErrExists) {
		t.Errorf("err = %v, want tenant.ErrExists", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	tdb := pgtest.New(t)
	m, err := postgres.NewMigrator(tdb.AdminURL, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n, err := m.Up(context.Background())
	if err != nil || n != 0 {
		t.Errorf("second migrate up applied %d migrations, err %v; want 0, nil", n, err)
	}
	states, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if !s.Applied {
			t.Errorf("migration %d not applied", s.Version)
		}
	}
}

func TestExpiredLicenseStillFound(t *testing.T) {
	tdb := pgtest.New(t)
	db, h := mustOpen(t, tdb.AppURL), mustHasher(t)
	past := time.Now().Add(-time.Hour)
	_, err := db.CreateLicense(context.Background(), tenant.Default, postgres.NewLicense{
		Email: "a@example.com", KeyHash: h.Hash("K"), KeyPrefix: "K", Status: license.StatusActive, Plan: "pro", ExpiresAt: &past,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.FindByKey(context.Background(), tenant.Default, "a@example.com", h.Hash("K"))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.CodeAt(time.Now()); got != license.CodeExpired {
		t.Errorf("code = %s, want EXPIRED", got)
	}
}

func TestChangeListener(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	var calls []string
	db.OnLicenseChange(func(_ context.Context, tid tenant.ID, email string, keyHash []byte) {
		calls = append(calls, fmt.Sprintf("%s/%s/%x", tid, email, keyHash[:2]))
	})

	mustLicense(t, db, h, tenant.Default, "a@example.com", "KEY-A")
	ref := postgres.Ref{KeyHash: h.Hash("KEY-A")}
	if _, _, err := db.SetStatus(ctx, tenant.Default, ref, license.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SetStatus(ctx, tenant.Default, ref, license.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	_, err := db.ImportLicenses(ctx, tenant.Default, []postgres.ImportLicense{{Line: 2, NewLicense: postgres.NewLicense{
		Email: "b@example.com", KeyHash: h.Hash("KEY-B"), KeyPrefix: "KEY-", Status: license.StatusActive, Plan: "pro",
	}}})
	if err != nil {
		t.Fatal(err)
	}

	want := []string{
		fmt.Sprintf("default/a@example.com/%x", h.Hash("KEY-A")[:2]),
		fmt.Sprintf("default/a@example.com/%x", h.Hash("KEY-A")[:2]),
		fmt.Sprintf("default/b@example.com/%x", h.Hash("KEY-B")[:2]),
	}
	if strings.Join(calls, " ") != strings.Join(want, " ") {
		t.Errorf("listener calls = %v, want %v (create, one revoke, one import; none for the no-op)", calls, want)
	}
}
