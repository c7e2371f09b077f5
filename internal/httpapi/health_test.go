package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/faultproxy"
	"github.com/rescuepc/licensing/internal/pgtest"
)

type healthBody struct {
	Status  string            `json:"status"`
	Region  string            `json:"region"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
}

func TestHealthOK(t *testing.T) {
	e := newEnv(t)
	resp := e.do(request{method: http.MethodGet, path: "/api/health"})
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.status, resp.body)
	}
	var h healthBody
	if err := json.Unmarshal(resp.body, &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.Region != "test-region" || h.Version != "v-test" || h.Checks["database"] != "ok" {
		t.Errorf("health = %+v", h)
	}

	head := e.do(request{method: http.MethodHead, path: "/api/health"})
	if head.status != http.StatusOK || len(head.body) != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and no body", head.status, len(head.body))
	}
}

func TestHealthDatabaseHung(t *testing.T) {
	tdb := pgtest.New(t)
	proxy := faultproxy.New(t, tdb.HostPort(t))
	e := newEnvWithURL(t, tdb.AppURLVia(t, proxy.Addr))

	proxy.Stall()
	start := time.Now()
	resp := e.do(request{method: http.MethodGet, path: "/api/health"})
	elapsed := time.Since(start)

	if resp.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503; body %s", resp.status, resp.body)
	}
	// The check has a one-second budget; allow for a slow test machine.
	if elapsed > 3*time.Second {
		t.Errorf("health took %v with the database hung, want about 1s", elapsed)
	}
	var h healthBody
	if err := json.Unmarshal(resp.body, &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "unavailable" || h.Checks["database"] != "unavailable" {
		t.Errorf("health = %+v, want status and database unavailable", h)
	}

	live := e.do(request{method: http.MethodGet, path: "/api/health/live"})
	if live.status != http.StatusOK {
		t.Errorf("live status = %d with the database hung, want 200", live.status)
	}

	proxy.Resume()
	if resp := e.do(request{method: http.MethodGet, path: "/api/health"}); resp.status != http.StatusOK {
		t.Errorf("after resume: status = %d, want 200; body %s", resp.status, resp.body)
	}
}
