package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/redistest"
)

func TestCachedServeRevokeFromCLI(t *testing.T) {
	db := pgtest.New(t)
	redisURL, prefix := redistest.Shared(t)
	metricsAddr := testnet.FreeAddr(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t), "METRICS_ADDR", metricsAddr,
		"REDIS_URL", redisURL, "REDIS_KEY_PREFIX", prefix)
	key := strings.TrimSpace(mustRunCLI(t, getenv, "licenses", "issue", "--tenant", "default", "--email", "a@example.com"))
	base := startServer(t, getenv)

	for range 3 {
		if code := verify(t, base, "", "a@example.com", key); code != "VALID" {
			t.Fatalf("issued key: %s, want VALID", code)
		}
	}
	// The CLI runs apart from the server and drops the cached verdict
	// through REDIS_URL.
	mustRunCLI(t, getenv, "licenses", "revoke", "--tenant", "default", key)
	if code := verify(t, base, "", "a@example.com", key); code != "REVOKED" {
		t.Errorf("revoked key right after revoke: %s, want REVOKED", code)
	}

	metrics := get(t, "http://"+metricsAddr+"/metrics")
	for _, want := range []string{
		`licensing_verdicts_total{code="VALID"} 3`,
		`licensing_verdicts_total{code="REVOKED"} 1`,
		`licensing_cache_lookups_total{result="hit"} 2`,
		`licensing_http_requests_total{route="/api/verify-license",status="200"} 4`,
		`licensing_db_pool_max_conns 10`,
		`licensing_http_request_duration_seconds_bucket{route="/api/verify-license"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
