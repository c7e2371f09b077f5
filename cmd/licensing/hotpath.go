package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/rescuepc/licensing/internal/cache"
	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/metrics"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/ratelimit"
	"github.com/rescuepc/licensing/internal/redisconn"
	"github.com/rescuepc/licensing/internal/tenant"
)

// store is the database with the optional Redis parts of the hot path.
// redis and cache are nil when REDIS_URL is unset.
type store struct {
	db    *postgres.DB
	reads license.Finder // the source of verification reads: db or a replica reader
	redis *redisconn.Conn
	cache *cache.Finder
}

// readsFrom builds the finder that verification reads go through from the
// primary, such as a replica reader.
type readsFrom func(primary *postgres.DB) (license.Finder, error)

// openStore opens the database with the pool settings and, when REDIS_URL
// is set, the verdict cache, which drops an entry after every committed
// change of its license. invalidateFailed reports an entry that could not
// be dropped. reads, when not nil, sets where verification reads go.
func (c *cli) openStore(ctx context.Context, logger *slog.Logger, m *metrics.Metrics,
	invalidateFailed func(error), reads readsFrom) (*store, error) {
	s := c.cfg.Scale
	db, err := postgres.OpenWithOptions(ctx, c.cfg.DatabaseURL, c.poolOptions())
	if err != nil {
		return nil, err
	}
	st := &store{db: db, reads: db}
	if reads != nil {
		if st.reads, err = reads(db); err != nil {
			db.Close()
			return nil, err
		}
	}
	if s.RedisURL == "" {
		return st, nil
	}

	st.redis, err = redisconn.Open(s.RedisURL, s.RedisTimeout, logger, m)
	if err != nil {
		db.Close()
		return nil, err
	}
	st.cache = cache.New(st.reads, st.redis, cache.Options{
		TTL: s.CacheTTL, NegativeTTL: s.CacheNegativeTTL, Prefix: s.RedisKeyPrefix, Metrics: m,
	})
	db.OnLicenseChange(func(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) {
		if err := st.cache.Invalidate(ctx, tenantID, email, keyHash); err != nil {
			invalidateFailed(err)
		}
	})
	return st, nil
}

func (st *store) close() {
	if st.redis != nil {
		st.redis.Close()
	}
	st.db.Close()
}

// finder returns the cache when there is one, else where reads go.
func (st *store) finder() license.Finder {
	if st.cache != nil {
		return st.cache
	}
	return st.reads
}

// poolOptions returns the pool settings from the environment.
func (c *cli) poolOptions() postgres.Options {
	s := c.cfg.Scale
	return postgres.Options{MaxConns: s.DBMaxConns, ConnectTimeout: s.DBConnectTimeout, StatementTimeout: s.DBStatementTimeout}
}

// optionalChecks returns the health checks of the optional dependencies.
func (st *store) optionalChecks() []httpapi.Check {
	if st.redis == nil {
		return nil
	}
	return []httpapi.Check{{Name: "redis", Pinger: st.redis, Optional: true}}
}

// rateLimiter returns the verify limits, kept in Redis when there is one.
func (c *cli) rateLimiter(st *store) *ratelimit.Limiter {
	return ratelimit.New(st.redis, ratelimit.Options{
		IPPerMinute:   c.cfg.Scale.RateLimitIP,
		FailedPerHour: c.cfg.Scale.RateLimitFailed,
		Prefix:        c.cfg.Scale.RedisKeyPrefix,
	})
}

// openLicenseStore opens the store for a command that changes licenses. A
// change whose cache entry cannot be dropped is reported on stderr, since
// the server may then answer from the old entry until CACHE_TTL ends.
func (c *cli) openLicenseStore(ctx context.Context) (*postgres.DB, func(), error) {
	logger := newLogger(c.stderr, c.cfg)
	st, err := c.openStore(ctx, logger, nil, func(err error) {
		fmt.Fprintf(c.stderr, "warning: %v; the server may answer from the cached verdict for up to CACHE_TTL (%s)\n",
			err, c.cfg.Scale.CacheTTL)
	}, nil)
	if err != nil {
		return nil, nil, err
	}
	return st.db, st.close, nil
}

// startMetrics serves /metrics and the pprof profiles under /debug/pprof/ on
// METRICS_ADDR, unless it is "off", until the returned stop function is
// called. Both are for operators only, so the default address is loopback.
func (c *cli) startMetrics(logger *slog.Logger, m *metrics.Metrics) (stop func(), err error) {
	if c.cfg.Scale.MetricsAddr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", c.cfg.Scale.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w", c.cfg.Scale.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "error", err)
		}
	}()
	logger.Info("metrics server started", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
