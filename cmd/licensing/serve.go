package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/metrics"
)

// serve runs the HTTP server until ctx is canceled, then lets in-flight
// requests finish within the shutdown timeout.
func (c *cli) serve(ctx context.Context) error {
	logger := newLogger(c.stdout, c.cfg)
	hasher, err := license.NewHasher(c.cfg.LicenseKeySecret)
	if err != nil {
		return err
	}
	m := metrics.New()
	st, err := c.openStore(ctx, logger, m, func(err error) {
		logger.Error("cache invalidation failed; a cached verdict may be stale until CACHE_TTL ends", "error", err)
	})
	if err != nil {
		return err
	}
	defer st.close()
	db := st.db
	if err := db.CheckRowSecurity(ctx); err != nil {
		return err
	}
	m.RegisterPool(db.Stat)
	stopMetrics, err := c.startMetrics(logger, m)
	if err != nil {
		return err
	}
	defer stopMetrics()

	ln, err := net.Listen("tcp", c.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", c.cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler: httpapi.NewHandler(httpapi.Options{
			Logger:   logger,
			Region:   c.cfg.Region,
			Version:  version,
			Verifier: license.NewVerifier(st.finder(), hasher),
			Database: db,

			OptionalChecks: st.optionalChecks(),
			Metrics:        m,
			RateLimiter:    c.rateLimiter(st),
			TrustedProxies: c.cfg.Scale.TrustedProxies,
			VerifyTimeout:  c.cfg.Scale.VerifyTimeout,
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	logger.Info("server started", "addr", ln.Addr().String(), "version", version, "config", c.cfg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	start := time.Now()
	logger.Info("shutdown started", "timeout", c.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), c.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("server stopped", "addr", ln.Addr().String(), "version", version,
		"shutdown_ms", time.Since(start).Milliseconds())
	return nil
}
