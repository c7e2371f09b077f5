package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/pgtest"
)

func TestHealthDraining(t *testing.T) {
	drain := &httpapi.Drain{}
	db := mustOpenDB(t, pgtest.New(t).AppURL)
	srv := startEnv(t, db, mustHasher(t), httpapi.Options{Drain: drain}).server

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
