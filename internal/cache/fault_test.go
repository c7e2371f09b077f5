package cache_test

import (
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/redistest"
	"github.com/rescuepc/licensing/internal/tenant"
)

// faultBudget is the most a verification may take with Redis faulty: the
// 50 ms Redis timeout twice (read and fill) plus a local database lookup,
// with room for a slow, shared test machine.
const faultBudget = time.Second

func TestCacheRedisStoppedMidRun(t *testing.T) {
	server := redistest.Start(t)
	e := newEnv(t, server.URL(), "test:")
	key := e.issue(tenant.Default, "a@example.com", nil)
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, 1)

	server.Stop()
	for i := range 5 {
		if got := e.code(tenant.Default, "a@example.com", key); got != license.CodeValid {
			t.Errorf("verify %d with Redis stopped = %s, want VALID", i, got)
		}
	}
	if got := e.counter.calls.Load(); got < 2 {
		t.Errorf("database lookups = %d with Redis stopped, want the database to answer", got)
	}

	server.Restart()
	// The connection skips Redis for a second after a fault.
	time.Sleep(1100 * time.Millisecond)
	e.code(tenant.Default, "a@example.com", key)
	before := e.counter.calls.Load()
	e.expect(tenant.Default, "a@example.com", key, license.CodeValid, before)
}

func TestCacheRedisUnreachable(t *testing.T) {
	tests := []struct {
		name string
		addr string
	}{
		{"nothing listening", testnet.FreeAddr(t)},
		{"accepts but never answers", redistest.Hung(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "redis://"+tt.addr+"/0", "test:")
			key := e.issue(tenant.Default, "a@example.com", nil)
			// Each pass waits past the one-second skip, so every pass
			// tries Redis again and meets the fault.
			for i := range 2 {
				start := time.Now()
				got := e.code(tenant.Default, "a@example.com", key)
				elapsed := time.Since(start)
				if got != license.CodeValid {
					t.Errorf("verify %d = %s, want VALID", i, got)
				}
				if elapsed > faultBudget {
					t.Errorf("verify %d took %v, want under %v", i, elapsed, faultBudget)
				}
				time.Sleep(1100 * time.Millisecond)
			}
		})
	}
}
