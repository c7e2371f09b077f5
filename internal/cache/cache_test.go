package cache_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/cache"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/redisconn"
	"github.com/rescuepc/licensing/internal/redistest"
	"github.com/rescuepc/licensing/internal/tenant"
)

const testSecret = "test-secret-test-secret-test-secret-0123"

// countingFinder counts the lookups that reach the database and can delay
// them, so concurrent misses overlap.
type countingFinder struct {
	inner license.Finder
	delay time.Duration
	calls atomic.Int64
}

func (f *countingFinder) FindByKey(ctx context.Context, tid tenant.ID, email string, keyHash []byte) (license.License, error) {
	f.calls.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	return f.inner.FindByKey(ctx, tid, email, keyHash)
}

// env is a database, a Redis and a cached verifier over them, with the
// cache invalidated by every committed license change.
type env struct {
	t       *testing.T
	db      *postgres.DB
	hasher  *license.Hasher
	counter *countingFinder
	// invalidateErrors counts failed invalidations, expected only while
	// Redis is away.
	invalidateErrors atomic.Int64
	cache            *cache.Finder
	verifier         *license.Verifier
}

func newEnv(t *testing.T, redisURL, prefix string) *env {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.New(t).AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	hasher, err := license.NewHasher(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := redisconn.Open(redisURL, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	counter := &countingFinder{inner: db}
	c := cache.New(counter, conn, cache.Options{TTL: time.Minute, NegativeTTL: time.Minute, Prefix: prefix})
	e := &env{t: t, db: db, hasher: hasher, counter: counter, cache: c, verifier: license.NewVerifier(c, hasher)}
	db.OnLicenseChange(func(ctx context.Context, tid tenant.ID, email string, keyHash []byte) {
		if err := c.Invalidate(ctx, tid, email, keyHash); err != nil {
			e.invalidateErrors.Add(1)
		}
	})
	return e
}

func newSharedEnv(t *testing.T) *env {
	url, prefix := redistest.Shared(t)
	return newEnv(t, url, prefix)
}

func (e *env) issue(tid tenant.ID, email string, expiresAt *time.Time) string {
	e.t.Helper()
	key, err := license.NewKey()
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = e.db.CreateLicense(context.Background(), tid, postgres.NewLicense{
		Email: email, KeyHash: e.hasher.Hash(key), KeyPrefix: license.KeyPrefix(key),
		Status: license.StatusActive, Plan: "pro", ExpiresAt: expiresAt,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

func (e *env) code(tid tenant.ID, email, key string) license.Code {
	e.t.Helper()
	v, err := e.verifier.Verify(context.Background(), tid, email, key)
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	return v.Code
}

// expect verifies and checks the code and the number of database lookups
// so far.
func (e *env) expect(tid tenant.ID, email, key string, want license.Code, wantLookups int64) {
	e.t.Helper()
	if got := e.code(tid, email, key); got != want {
		e.t.Errorf("verify = %s, want %s", got, want)
	}
	if got := e.counter.calls.Load(); got != wantLookups {
		e.t.Errorf("database lookups = %d, want %d", got, wantLookups)
	}
}

func TestCacheHitAndMiss(t *testing.T) {
	e := newSharedEnv(t)
	key := e.issue(tenant.Default, "a@example.com", nil)

	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)
	e.expect(tenant.Default, "A@Example.com ", key, license.CodeValid, 1)

	e.expect(tenant.Default, "other@example.com", key, license.CodeNotFound, 2)
	e.expect(tenant.Default, "other@example.com", key, license.CodeNotFound, 2)
}

func TestCacheKeepsTenantsApart(t *testing.T) {
	e := newSharedEnv(t)
	if _, err := e.db.CreateTenant(context.Background(), "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	key := e.issue("acme", "a@example.com", nil)

	e.expect("acme", "a@example.com", key, license.CodeValid, 1)
	e.expect(tenant.Default, "a@example.com", key, license.CodeNotFound, 2)
	e.expect("acme", "a@example.com", key, license.CodeValid, 2)
}

func TestCacheRevokeAnswersAtOnce(t *testing.T) {
	e := newSharedEnv(t)
	key := e.issue(tenant.Default, "a@example.com", nil)
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)

	setStatus(t, e, key, license.StatusRevoked)
	e.expect(tenant.Default, "a@example.com", key, license.CodeRevoked, 2)
}

func TestCacheInvalidatedOnEachChange(t *testing.T) {
	e := newSharedEnv(t)
	ctx := context.Background()
	key := e.issue(tenant.Default, "a@example.com", nil)

	e.code(tenant.Default, "a@example.com", key)
	setStatus(t, e, key, license.StatusSuspended)
	if got := e.code(tenant.Default, "a@example.com", key); got != license.CodeSuspended {
		t.Errorf("after suspend: %s, want SUSPENDED", got)
	}
	setStatus(t, e, key, license.StatusActive)
	if got := e.code(tenant.Default, "a@example.com", key); got != license.CodeValid {
		t.Errorf("after reinstate: %s, want VALID", got)
	}

	// An import that updates the license and one that inserts a license
	// whose "not found" verdict is cached.
	past := time.Now().Add(-time.Hour)
	newKey, _ := license.NewKey()
	if got := e.code(tenant.Default, "b@example.com", newKey); got != license.CodeNotFound {
		t.Fatalf("before import: %s, want NOT_FOUND", got)
	}
	_, err := e.db.ImportLicenses(ctx, tenant.Default, []postgres.ImportLicense{
		{Line: 2, NewLicense: postgres.NewLicense{Email: "a@example.com", KeyHash: e.hasher.Hash(key),
			KeyPrefix: license.KeyPrefix(key), Status: license.StatusActive, Plan: "pro", ExpiresAt: &past}},
		{Line: 3, NewLicense: postgres.NewLicense{Email: "b@example.com", KeyHash: e.hasher.Hash(newKey),
			KeyPrefix: license.KeyPrefix(newKey), Status: license.StatusActive, Plan: "pro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.code(tenant.Default, "a@example.com", key); got != license.CodeExpired {
		t.Errorf("after import set a past expiry: %s, want EXPIRED", got)
	}
	if got := e.code(tenant.Default, "b@example.com", newKey); got != license.CodeValid {
		t.Errorf("after import inserted the license: %s, want VALID", got)
	}
}

func TestCacheCreateReplacesNotFound(t *testing.T) {
	e := newSharedEnv(t)
	key, _ := license.NewKey()
	if _, err := e.db.CreateTenant(context.Background(), "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	e.expect("acme", "a@example.com", key, license.CodeNotFound, 1)

	_, err := e.db.CreateLicense(context.Background(), "acme", postgres.NewLicense{
		Email: "a@example.com", KeyHash: e.hasher.Hash(key), KeyPrefix: license.KeyPrefix(key),
		Status: license.StatusActive, Plan: "pro",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.expect("acme", "a@example.com", key, license.CodeValid, 2)
}

func TestCacheExpiryWhileCached(t *testing.T) {
	e := newSharedEnv(t)
	expires := time.Now().Add(1500 * time.Millisecond)
	key := e.issue(tenant.Default, "a@example.com", &expires)
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)

	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	e.expect(tenant.Default, "a@example.com", key, license.CodeExpired, 1)
}

func TestCacheSingleflight(t *testing.T) {
	e := newSharedEnv(t)
	key := e.issue(tenant.Default, "a@example.com", nil)
	e.counter.delay = 200 * time.Millisecond

	const callers = 50
	var wg sync.WaitGroup
	codes := make([]license.Code, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			v, err := e.verifier.Verify(context.Background(), tenant.Default, "a@example.com", key)
			codes[i], errs[i] = v.Code, err
		})
	}
	wg.Wait()

	for i := range callers {
		if errs[i] != nil || codes[i] != license.CodeValid {
			t.Errorf("caller %d: %s, %v; want VALID", i, codes[i], errs[i])
		}
	}
	if got := e.counter.calls.Load(); got != 1 {
		t.Errorf("database lookups = %d for %d concurrent misses, want 1", got, callers)
	}
}

func setStatus(t *testing.T, e *env, key string, status license.Status) {
	t.Helper()
	_, _, err := e.db.SetStatus(context.Background(), tenant.Default, postgres.Ref{KeyHash: e.hasher.Hash(key)}, status)
	if err != nil {
		t.Fatal(err)
	}
}
