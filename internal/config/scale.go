package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Scale holds the settings of the verification hot path: the Redis cache,
// brute-force limits, the database pool, timeouts and the metrics listener.
type Scale struct {
	// RedisURL is the Redis server for the verdict cache and the rate
	// limits, such as redis://127.0.0.1:6379/0. Empty turns both off in
	// Redis: no cache, and rate limits kept in process.
	RedisURL string
	// RedisKeyPrefix starts every Redis key, so several deployments or
	// test runs can share one Redis.
	RedisKeyPrefix string
	// RedisTimeout bounds every Redis call, so a slow Redis costs at most
	// this much before a verification falls back to PostgreSQL.
	RedisTimeout time.Duration
	// CacheTTL is how long a found license stays cached.
	CacheTTL time.Duration
	// CacheNegativeTTL is how long a "not found" verdict stays cached.
	CacheNegativeTTL time.Duration

	// RateLimitIP is the number of verify requests allowed per client IP
	// per minute; 0 turns the limit off.
	RateLimitIP int
	// RateLimitFailed is the number of failed verifications allowed per
	// tenant and email per hour; 0 turns the limit off.
	RateLimitFailed int
	// TrustedProxies lists the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix

	// DBMaxConns is the size of the PostgreSQL connection pool.
	DBMaxConns int
	// DBConnectTimeout bounds opening one database connection.
	DBConnectTimeout time.Duration
	// DBStatementTimeout is PostgreSQL's statement_timeout in every
	// tenant-scoped transaction.
	DBStatementTimeout time.Duration
	// VerifyTimeout bounds one verification, after which the request gets 503.
	VerifyTimeout time.Duration

	// MetricsAddr is the listen address of the Prometheus metrics endpoint;
	// "off" turns it off.
	MetricsAddr string
}

// loadScale reads the Scale settings into s and returns one error per
// malformed variable.
func loadScale(getenv func(string) string, s *Scale) []error {
	s.RedisURL = strings.TrimSpace(getenv("REDIS_URL"))
	s.RedisKeyPrefix = withDefault(getenv("REDIS_KEY_PREFIX"), "licensing:")
	s.MetricsAddr = withDefault(getenv("METRICS_ADDR"), "127.0.0.1:9090")

	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	s.RedisTimeout, err = parseDuration(getenv, "REDIS_TIMEOUT", 50*time.Millisecond)
	collect(err)
	s.CacheTTL, err = parseDuration(getenv, "CACHE_TTL", 30*time.Second)
	collect(err)
	s.CacheNegativeTTL, err = parseDuration(getenv, "CACHE_NEGATIVE_TTL", 5*time.Second)
	collect(err)
	s.DBConnectTimeout, err = parseDuration(getenv, "DB_CONNECT_TIMEOUT", 5*time.Second)
	collect(err)
	s.DBStatementTimeout, err = parseDuration(getenv, "DB_STATEMENT_TIMEOUT", 5*time.Second)
	collect(err)
	s.VerifyTimeout, err = parseDuration(getenv, "VERIFY_TIMEOUT", 3*time.Second)
	collect(err)
	s.RateLimitIP, err = parseCount(getenv, "RATE_LIMIT_IP", 600, 0)
	collect(err)
	s.RateLimitFailed, err = parseCount(getenv, "RATE_LIMIT_FAILED", 20, 0)
	collect(err)
	s.DBMaxConns, err = parseCount(getenv, "DB_MAX_CONNS", 10, 1)
	collect(err)
	s.TrustedProxies, err = parsePrefixes(getenv("TRUSTED_PROXIES"))
	collect(err)
	return errs
}

// parseCount reads a whole number of at least min, or def when unset.
func parseCount(getenv func(string) string, name string, def, min int) (int, error) {
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min {
		return 0, fmt.Errorf("%s %q is invalid: use a whole number of at least %d", name, raw, min)
	}
	return n, nil
}

// parsePrefixes reads a comma-separated list of CIDRs or single addresses.
func parsePrefixes(raw string) ([]netip.Prefix, error) {
	var list []netip.Prefix
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES entry %q is invalid: use CIDRs such as 10.0.0.0/8", part)
			}
			list = append(list, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES entry %q is invalid: use CIDRs such as 10.0.0.0/8", part)
		}
		list = append(list, p.Masked())
	}
	return list, nil
}

// LogValue lists the settings for the start-up log line, with the Redis
// password masked.
func (s Scale) LogValue() slog.Value {
	proxies := make([]string, len(s.TrustedProxies))
	for i, p := range s.TrustedProxies {
		proxies[i] = p.String()
	}
	return slog.GroupValue(
		slog.String("redis_url", Redact(s.RedisURL)),
		slog.String("redis_key_prefix", s.RedisKeyPrefix),
		slog.String("redis_timeout", s.RedisTimeout.String()),
		slog.String("cache_ttl", s.CacheTTL.String()),
		slog.String("cache_negative_ttl", s.CacheNegativeTTL.String()),
		slog.Int("rate_limit_ip", s.RateLimitIP),
		slog.Int("rate_limit_failed", s.RateLimitFailed),
		slog.String("trusted_proxies", strings.Join(proxies, ",")),
		slog.Int("db_max_conns", s.DBMaxConns),
		slog.String("db_connect_timeout", s.DBConnectTimeout.String()),
		slog.String("db_statement_timeout", s.DBStatementTimeout.String()),
		slog.String("verify_timeout", s.VerifyTimeout.String()),
		slog.String("metrics_addr", s.MetricsAddr),
	)
}
