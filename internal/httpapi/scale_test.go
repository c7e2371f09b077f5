package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/rescuepc/licensing/internal/cache"
	"github.com/rescuepc/licensing/internal/faultproxy"
	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgbouncertest"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/ratelimit"
	"github.com/rescuepc/licensing/internal/redisconn"
	"github.com/rescuepc/licensing/internal/redistest"
	"github.com/rescuepc/licensing/internal/tenant"
)

// scaleSetup describes the hot-path parts of a test server.
type scaleSetup struct {
	dbURL          string
	redisURL       string
	prefix         string
	limits         ratelimit.Options
	trustedProxies []netip.Prefix
	verifyTimeout  time.Duration
}

// newScaleEnv starts a server with the Redis cache, rate limits and
// optional Redis health check wired as the serve command wires them, or
// without Redis when s.redisURL is empty.
func newScaleEnv(t *testing.T, s scaleSetup) *env {
	t.Helper()
	if s.dbURL == "" {
		s.dbURL = pgtest.New(t).AppURL
	}
	db, hasher, logger := mustOpenDB(t, s.dbURL), mustHasher(t), discardLogger()
	opts := httpapi.Options{
		Logger:         logger,
		RateLimiter:    ratelimit.New(nil, s.limits),
		TrustedProxies: s.trustedProxies,
		VerifyTimeout:  s.verifyTimeout,
	}
	if s.redisURL != "" {
		conn, err := redisconn.Open(s.redisURL, 50*time.Millisecond, logger, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		finder := cache.New(db, conn, cache.Options{TTL: time.Minute, NegativeTTL: time.Minute, Prefix: s.prefix})
		s.limits.Prefix = s.prefix + "rate:"
		opts.Verifier = license.NewVerifier(finder, hasher)
		opts.OptionalChecks = []httpapi.Check{{Name: "redis", Pinger: conn, Optional: true}}
		opts.RateLimiter = ratelimit.New(conn, s.limits)
	}
	return startEnv(t, db, hasher, opts)
}

func sharedSetup(t *testing.T) scaleSetup {
	url, prefix := redistest.Shared(t)
	return scaleSetup{redisURL: url, prefix: prefix}
}

// verifyFrom posts a verify request with the given X-Forwarded-For, or
// none when xff is empty.
func (e *env) verifyFrom(xff, email, key string) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "licenseKey": key})
	req := request{body: string(body), contentType: "application/json", headers: map[string]string{}}
	if xff != "" {
		req.headers["X-Forwarded-For"] = xff
	}
	return e.do(req)
}

// checkRateLimited checks a 429 with Retry-After and the error body.
func checkRateLimited(t *testing.T, resp response, field string) {
	t.Helper()
	if resp.status != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429; body %s", resp.status, resp.body)
	}
	if s, err := strconv.Atoi(resp.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds of at least 1", resp.header.Get("Retry-After"))
	}
	var body errorBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("decode %s: %v", resp.body, err)
	}
	if body.Error.Code != "rate_limited" || body.Error.Field != field || body.Error.Message == "" {
		t.Errorf("error = %+v, want code rate_limited, field %q", body.Error, field)
	}
}

func TestRateLimitPerIP(t *testing.T) {
	s := sharedSetup(t)
	s.limits.IPPerMinute = 3
	e := newScaleEnv(t, s)
	key := mustKey(t)
	e.mustLicense("default", "a@example.com", key, license.StatusActive, nil)

	for i := range 3 {
		if resp := e.verifyFrom("", "a@example.com", key); resp.status != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, resp.status)
		}
	}
	checkRateLimited(t, e.verifyFrom("", "a@example.com", key), "")
}

func TestRateLimitIgnoresUntrustedForwardedFor(t *testing.T) {
	s := sharedSetup(t)
	s.limits.IPPerMinute = 2
	e := newScaleEnv(t, s)

	e.verifyFrom("203.0.113.1", "a@example.com", "AAAAA")
	e.verifyFrom("203.0.113.2", "a@example.com", "AAAAA")
	checkRateLimited(t, e.verifyFrom("203.0.113.3", "a@example.com", "AAAAA"), "")
}

func TestRateLimitTrustedProxy(t *testing.T) {
	s := sharedSetup(t)
	s.limits.IPPerMinute = 2
	s.trustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	e := newScaleEnv(t, s)

	// The client prepends a spoofed address; the rightmost untrusted hop
	// is the real client.
	for i := range 2 {
		resp := e.verifyFrom("198.51.100.7, 203.0.113.1, 10.1.2.3", "a@example.com", "AAAAA")
		if resp.status != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, resp.status)
		}
	}
	checkRateLimited(t, e.verifyFrom("198.51.100.8, 203.0.113.1", "a@example.com", "AAAAA"), "")
	if resp := e.verifyFrom("203.0.113.2", "a@example.com", "AAAAA"); resp.status != http.StatusOK {
		t.Errorf("another client: status %d, want 200", resp.status)
	}
}

func TestRateLimitFailedPerEmail(t *testing.T) {
	s := sharedSetup(t)
	s.limits.FailedPerHour = 3
	e := newScaleEnv(t, s)
	key := mustKey(t)
	e.mustLicense("default", "a@example.com", key, license.StatusActive, nil)

	for i := range 3 {
		if got := e.verify("", "a@example.com", mustKey(t)); got.Code != "NOT_FOUND" {
			t.Fatalf("wrong key %d: %s, want NOT_FOUND", i, got.Code)
		}
	}
	checkRateLimited(t, e.verifyFrom("", "A@example.com", key), "email")
	if got := e.verify("", "b@example.com", mustKey(t)); got.Code != "NOT_FOUND" {
		t.Errorf("another email: %s, want NOT_FOUND", got.Code)
	}
	// Successful verifications use up nothing.
	other := mustKey(t)
	e.mustLicense("default", "c@example.com", other, license.StatusActive, nil)
	for i := range 5 {
		if got := e.verify("", "c@example.com", other); got.Code != "VALID" {
			t.Fatalf("valid key %d: %s, want VALID", i, got.Code)
		}
	}
}

func TestRateLimitWithoutRedis(t *testing.T) {
	e := newScaleEnv(t, scaleSetup{redisURL: "redis://" + testnet.FreeAddr(t) + "/0", prefix: "test:",
		limits: ratelimit.Options{IPPerMinute: 2}})

	e.verifyFrom("", "a@example.com", "AAAAA")
	e.verifyFrom("", "a@example.com", "AAAAA")
	checkRateLimited(t, e.verifyFrom("", "a@example.com", "AAAAA"), "")
}

func TestHealthRedisDegraded(t *testing.T) {
	server := redistest.Start(t)
	e := newScaleEnv(t, scaleSetup{redisURL: server.URL(), prefix: "test:"})
	key := mustKey(t)
	e.mustLicense("default", "a@example.com", key, license.StatusActive, nil)

	checkHealth(t, e, "ok", "ok")
	server.Stop()
	checkHealth(t, e, "degraded", "degraded")
	if got := e.verify("", "a@example.com", key); got.Code != "VALID" {
		t.Errorf("verify with Redis stopped: %s, want VALID", got.Code)
	}
	server.Restart()
	checkHealth(t, e, "ok", "ok")
}

func checkHealth(t *testing.T, e *env, wantStatus, wantRedis string) {
	t.Helper()
	resp := e.do(request{method: http.MethodGet, path: "/api/health"})
	if resp.status != http.StatusOK {
		t.Fatalf("health status = %d, want 200; body %s", resp.status, resp.body)
	}
	var h healthBody
	if err := json.Unmarshal(resp.body, &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != wantStatus || h.Checks["redis"] != wantRedis || h.Checks["database"] != "ok" {
		t.Errorf("health = %+v, want status %s, redis %s, database ok", h, wantStatus, wantRedis)
	}
}

func TestVerifyDatabaseHungAnswers503(t *testing.T) {
	tdb := pgtest.New(t)
	proxy := faultproxy.New(t, tdb.HostPort(t))
	s := sharedSetup(t)
	s.dbURL = tdb.AppURLVia(t, proxy.Addr)
	s.verifyTimeout = 500 * time.Millisecond
	e := newScaleEnv(t, s)

	proxy.Stall()
	start := time.Now()
	resp := e.verifyFrom("", "a@example.com", mustKey(t))
	elapsed := time.Since(start)
	// Closing the stalled connections lets pgx finish closing the timed-out
	// one at once instead of waiting on its cancel request.
	t.Cleanup(proxy.Resume)

	if resp.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503; body %s", resp.status, resp.body)
	}
	if resp.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	var body errorBody
	if err := json.Unmarshal(resp.body, &body); err != nil || body.Error.Code != "service_unavailable" {
		t.Errorf("body = %s, want code service_unavailable", resp.body)
	}
	// The verification has a 500 ms budget; allow for a slow test machine.
	if elapsed > 3*time.Second {
		t.Errorf("verify took %v with the database hung, want about 500ms", elapsed)
	}
}

func mustKey(t *testing.T) string {
	t.Helper()
	key, err := license.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestVerifyThroughPgBouncer(t *testing.T) {
	tdb := pgtest.New(t)
	u, err := url.Parse(tdb.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	addr := pgbouncertest.Start(t, tdb.HostPort(t), map[string]string{u.User.Username(): password})
	// No cache, so every verification goes through PgBouncer.
	e := newScaleEnv(t, scaleSetup{dbURL: tdb.AppURLVia(t, addr) + "&default_query_exec_mode=exec"})
	e.mustTenant("acme")
	e.mustTenant("globex")
	keys := map[string]string{"acme": mustKey(t), "globex": mustKey(t)}
	for tid, key := range keys {
		e.mustLicense(tenant.ID(tid), "same@example.com", key, license.StatusActive, nil)
	}

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 20 {
				own, other := "acme", "globex"
				if (w+i)%2 == 1 {
					own, other = other, own
				}
				if got := e.verify(own, "same@example.com", keys[own]); got.Code != "VALID" {
					t.Errorf("tenant %s, own key: %s, want VALID", own, got.Code)
				}
				if got := e.verify(own, "same@example.com", keys[other]); got.Code != "NOT_FOUND" {
					t.Errorf("tenant %s, key of %s: %s, want NOT_FOUND", own, other, got.Code)
				}
			}
		})
	}
	wg.Wait()
}
