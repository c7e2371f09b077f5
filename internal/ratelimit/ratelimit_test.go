package ratelimit_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/ratelimit"
	"github.com/rescuepc/licensing/internal/redisconn"
	"github.com/rescuepc/licensing/internal/redistest"
)

func newLimiter(t *testing.T, withRedis bool, opts ratelimit.Options) *ratelimit.Limiter {
	t.Helper()
	if !withRedis {
		return ratelimit.New(nil, opts)
	}
	url, prefix := redistest.Shared(t)
	conn, err := redisconn.Open(url, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	opts.Prefix = prefix
	return ratelimit.New(conn, opts)
}

func TestLimits(t *testing.T) {
	for _, tt := range []struct {
		name      string
		withRedis bool
	}{{"redis", true}, {"in process", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("per IP", func(t *testing.T) { testIPLimit(t, newLimiter(t, tt.withRedis, ratelimit.Options{IPPerMinute: 2})) })
			t.Run("failed", func(t *testing.T) {
				testFailedLimit(t, newLimiter(t, tt.withRedis, ratelimit.Options{FailedPerHour: 2}))
			})
		})
	}
}

func testIPLimit(t *testing.T, l *ratelimit.Limiter) {
	ctx := context.Background()
	ip, other := netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("203.0.113.2")
	for i := range 2 {
		if _, ok := l.AllowIP(ctx, ip); !ok {
			t.Fatalf("request %d rejected, want allowed", i)
		}
	}
	wait, ok := l.AllowIP(ctx, ip)
	if ok {
		t.Fatal("third request allowed, want rejected")
	}
	// Two per minute refill one every 30 seconds.
	if wait <= 0 || wait > 30*time.Second {
		t.Errorf("wait = %v, want up to 30s", wait)
	}
	if _, ok := l.AllowIP(ctx, other); !ok {
		t.Error("another IP rejected, want allowed")
	}
}

func testFailedLimit(t *testing.T, l *ratelimit.Limiter) {
	ctx := context.Background()
	for i := range 5 {
		if _, ok := l.CheckFailed(ctx, "acme", "a@example.com"); !ok {
			t.Fatalf("check %d before any failure rejected; checks must not use up attempts", i)
		}
	}
	l.RecordFailed(ctx, "acme", "a@example.com")
	l.RecordFailed(ctx, "acme", "a@example.com")
	wait, ok := l.CheckFailed(ctx, "acme", "a@example.com")
	if ok {
		t.Fatal("check after two failures allowed, want rejected")
	}
	// Two per hour refill one every 30 minutes.
	if wait <= 0 || wait > 30*time.Minute {
		t.Errorf("wait = %v, want up to 30m", wait)
	}
	if _, ok := l.CheckFailed(ctx, "other", "a@example.com"); !ok {
		t.Error("same email in another tenant rejected, want allowed")
	}
}

func TestLimitsOff(t *testing.T) {
	l := ratelimit.New(nil, ratelimit.Options{})
	for range 100 {
		if _, ok := l.AllowIP(context.Background(), netip.MustParseAddr("203.0.113.1")); !ok {
			t.Fatal("rejected with the limit off")
		}
		l.RecordFailed(context.Background(), "acme", "a@example.com")
	}
	if _, ok := l.CheckFailed(context.Background(), "acme", "a@example.com"); !ok {
		t.Error("failed check rejected with the limit off")
	}
}
