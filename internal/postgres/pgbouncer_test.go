package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgbouncertest"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

// bouncerURL starts PgBouncer in transaction mode in front of the test
// database and returns the app role's URL through it with exec mode.
func bouncerURL(t *testing.T, tdb *pgtest.Database, mode string) string {
	t.Helper()
	u, err := url.Parse(tdb.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	addr := pgbouncertest.Start(t, tdb.HostPort(t), map[string]string{u.User.Username(): password})
	u, _ = url.Parse(tdb.AppURLVia(t, addr))
	q := u.Query()
	q.Set("default_query_exec_mode", mode)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPgBouncerTenantIsolation(t *testing.T) {
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) { testPgBouncerTenantIsolation(t, mode) })
	}
}

func testPgBouncerTenantIsolation(t *testing.T, mode string) {
	ctx := context.Background()
	tdb := pgtest.New(t)
	dbURL := bouncerURL(t, tdb, mode)
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	tenants := []tenant.ID{"alpha", "bravo", "charlie"}
	keys := map[tenant.ID][]byte{}
	for i, tid := range tenants {
		if _, err := db.CreateTenant(ctx, tid, string(tid)); err != nil {
			t.Fatal(err)
		}
		keys[tid] = []byte(fmt.Sprintf("%032d", i))
		_, err := db.CreateLicense(ctx, tid, postgres.NewLicense{Email: "same@example.com", KeyHash: keys[tid],
			KeyPrefix: "TEST", Status: license.StatusActive, Plan: "pro"})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Eight pool connections share PgBouncer's four server connections,
	// and a plain client checks that no tenant setting outlives its
	// transaction on a server connection.
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				tid := tenants[(w+i)%len(tenants)]
				other := tenants[(w+i+1)%len(tenants)]
				if err := checkLookup(ctx, db, tid, keys[tid], keys[other]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 40 {
			if err := checkNoTenantSees(ctx, dbURL); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkLookup finds the tenant's own license and not another tenant's.
func checkLookup(ctx context.Context, db *postgres.DB, tid tenant.ID, own, other []byte) error {
	l, err := db.FindByKey(ctx, tid, "same@example.com", own)
	if err != nil {
		return fmt.Errorf("tenant %s, own key: %w", tid, err)
	}
	if l.TenantID != string(tid) {
		return fmt.Errorf("tenant %s found a license of tenant %s", tid, l.TenantID)
	}
	if _, err := db.FindByKey(ctx, tid, "same@example.com", other); !errors.Is(err, license.ErrNotFound) {
		return fmt.Errorf("tenant %s, another tenant's key: err = %v, want not found", tid, err)
	}
	return nil
}

// checkNoTenantSees counts licenses without setting a tenant, which
// row-level security must answer with 0.
func checkNoTenantSees(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM licenses`).Scan(&n); err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("a query without a tenant saw %d licenses: a tenant setting outlived its transaction", n)
	}
	return nil
}
