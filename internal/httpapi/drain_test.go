package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
)

func TestHealthDraining(t *testing.T) {
	tdb := pgtest.New(t)
	db, err := postgres.Open(t.Context(), tdb.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	hasher, err := license.NewHasher(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	drain := &httpapi.Drain{}
	srv := httptest.NewServer(drain.Wrap(httpapi.NewHandler(httpapi.Options{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Region: "r", Version: "v",
		Verifier: license.NewVerifier(db, hasher), Database: db, Drain: drain,
	})))
	t.Cleanup(srv.Close)

	if resp := mustGet(t, srv.URL+"/api/health"); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("before drain: status %d, close %v; want 200 and keep-alive", resp.StatusCode, resp.Close)
	}
	drain.Start()

	resp := mustGet(t, srv.URL+"/api/health")
	var h healthBody
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || h.Status != "draining" {
		t.Errorf("draining health: status %d %q, want 503 draining", resp.StatusCode, h.Status)
	}
	if !resp.Close {
		t.Errorf("draining health: no Connection: close header")
	}
	if live := mustGet(t, srv.URL+"/api/health/live"); live.StatusCode != http.StatusOK {
		t.Errorf("draining live: status %d, want 200", live.StatusCode)
	}
}

func TestNilDrainNeverDrains(t *testing.T) {
	var d *httpapi.Drain
	if d.Draining() {
		t.Error("nil Drain reports draining")
	}
}

func mustGet(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
