package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

const testSecret = "test-secret-test-secret-test-secret-0123"

// env is a server on a fresh database with helpers to seed it.
type env struct {
	t      testing.TB
	db     *postgres.DB
	hasher *license.Hasher
	server *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	tdb := pgtest.New(t)
	return newEnvWithURL(t, tdb.AppURL)
}

func newEnvWithURL(t testing.TB, url string) *env {
	t.Helper()
	db := mustOpenDB(t, url)
	return startEnv(t, db, mustHasher(t), httpapi.Options{})
}

func mustOpenDB(t testing.TB, url string) *postgres.DB {
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
	hasher, err := license.NewHasher(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return hasher
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// startEnv serves the API over db with opts until the test ends. It fills
// the options a test leaves empty (logger, region, version, a verifier on
// db, the database check) and wraps the handler with opts.Drain, as serve
// does.
func startEnv(t testing.TB, db *postgres.DB, hasher *license.Hasher, opts httpapi.Options) *env {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	if opts.Region == "" {
		opts.Region, opts.Version = "test-region", "v-test"
	}
	if opts.Verifier == nil {
		opts.Verifier = license.NewVerifier(db, hasher)
	}
	opts.Database = db
	handler := httpapi.NewHandler(opts)
	if opts.Drain != nil {
		handler = opts.Drain.Wrap(handler)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, hasher: hasher, server: srv}
}

func (e *env) mustTenant(id tenant.ID) {
	e.t.Helper()
	if _, err := e.db.CreateTenant(context.Background(), id, string(id)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mustLicense(tid tenant.ID, email, key string, status license.Status, expiresAt *time.Time) {
	e.t.Helper()
	_, err := e.db.CreateLicense(context.Background(), tid, postgres.NewLicense{
		Email: email, KeyHash: e.hasher.Hash(key), KeyPrefix: license.KeyPrefix(key),
		Status: status, Plan: "pro", ExpiresAt: expiresAt,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// request is one HTTP call to the test server.
type request struct {
	method      string
	path        string
	body        string
	contentType string
	headers     map[string]string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(req request) response {
	e.t.Helper()
	if req.method == "" {
		req.method = http.MethodPost
	}
	if req.path == "" {
		req.path = "/api/verify-license"
	}
	r, err := http.NewRequest(req.method, e.server.URL+req.path, strings.NewReader(req.body))
	if err != nil {
		e.t.Fatal(err)
	}
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	for k, v := range req.headers {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// verify posts a verify-license request and decodes the 200 answer.
func (e *env) verify(tenantHeader, email, key string) verifyBody {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "licenseKey": key})
	req := request{body: string(body), contentType: "application/json"}
	if tenantHeader != "" {
		req.headers = map[string]string{"X-Tenant-ID": tenantHeader}
	}
	resp := e.do(req)
	if resp.status != http.StatusOK {
		e.t.Fatalf("verify: status %d, body %s", resp.status, resp.body)
	}
	var v verifyBody
	if err := json.Unmarshal(resp.body, &v); err != nil {
		e.t.Fatalf("decode %s: %v", resp.body, err)
	}
	return v
}

type verifyBody struct {
	Valid   bool   `json:"valid"`
	Code    string `json:"code"`
	License *struct {
		Status    string  `json:"status"`
		Plan      string  `json:"plan"`
		ExpiresAt *string `json:"expiresAt"`
	} `json:"license"`
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}
