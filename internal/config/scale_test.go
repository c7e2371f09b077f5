package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestLoadScaleDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://a@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Scale
	if s.RedisURL != "" || s.RedisKeyPrefix != "licensing:" || s.RedisTimeout != 50*time.Millisecond {
		t.Errorf("redis defaults = %q %q %v", s.RedisURL, s.RedisKeyPrefix, s.RedisTimeout)
	}
	if s.CacheTTL != 30*time.Second || s.CacheNegativeTTL != 5*time.Second {
		t.Errorf("cache TTLs = %v %v, want 30s 5s", s.CacheTTL, s.CacheNegativeTTL)
	}
	if s.RateLimitIP != 600 || s.RateLimitFailed != 20 || len(s.TrustedProxies) != 0 {
		t.Errorf("rate limits = %d %d %v", s.RateLimitIP, s.RateLimitFailed, s.TrustedProxies)
	}
	if s.DBMaxConns != 10 || s.DBConnectTimeout != 5*time.Second || s.DBStatementTimeout != 5*time.Second {
		t.Errorf("database = %d %v %v", s.DBMaxConns, s.DBConnectTimeout, s.DBStatementTimeout)
	}
	if s.VerifyTimeout != 3*time.Second || s.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("verify timeout %v, metrics %q", s.VerifyTimeout, s.MetricsAddr)
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "x", "TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,fd00::/8"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8")}
	if len(c.Scale.TrustedProxies) != len(want) {
		t.Fatalf("TrustedProxies = %v, want %v", c.Scale.TrustedProxies, want)
	}
	for i := range want {
		if c.Scale.TrustedProxies[i] != want[i] {
			t.Errorf("TrustedProxies[%d] = %v, want %v", i, c.Scale.TrustedProxies[i], want[i])
		}
	}
}

func TestLoadScaleInvalidValues(t *testing.T) {
	_, err := Load(env(map[string]string{
		"DATABASE_URL": "x", "CACHE_TTL": "0s", "REDIS_TIMEOUT": "fast", "RATE_LIMIT_IP": "-1",
		"RATE_LIMIT_FAILED": "many", "DB_MAX_CONNS": "0", "TRUSTED_PROXIES": "10.0.0.0/33", "VERIFY_TIMEOUT": "-3s",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"CACHE_TTL", "REDIS_TIMEOUT", "RATE_LIMIT_IP", "RATE_LIMIT_FAILED", "DB_MAX_CONNS",
		"TRUSTED_PROXIES", "VERIFY_TIMEOUT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v, want it to name %s", err, name)
		}
	}
}

func TestLogValueMasksRedisPassword(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "x", "REDIS_URL": "redis://:hunter2@h:6379/0"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LogValue().String(); strings.Contains(got, "hunter2") {
		t.Errorf("LogValue leaks the Redis password: %s", got)
	}
}
