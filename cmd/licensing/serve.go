package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/metrics"
	"github.com/rescuepc/licensing/internal/postgres"
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

	// Background work, such as the replica monitor, runs until serve
	// returns, not until ctx ends, so it keeps working while the server
	// drains.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	var (
		replicaChecks []httpapi.Check
		closeReplica  = func() {}
	)
	st, err := c.openStore(ctx, logger, m, func(err error) {
		logger.Error("cache invalidation failed; a cached verdict may be stale until CACHE_TTL ends", "error", err)
	}, func(primary *postgres.DB) (license.Finder, error) {
		finder, checks, closeFn, err := c.openReader(background, primary, logger)
		replicaChecks, closeReplica = checks, closeFn
		return finder, err
	})
	if err != nil {
		return err
	}
	defer st.close()
	defer closeReplica()
	db := st.db
	if err := db.CheckRowSecurity(ctx); err != nil {
		return err
	}
	m.RegisterPool(db.Stat)
	m.RegisterCounterFunc("licensing_stripe_webhook_signature_failures_total",
		"Stripe webhook requests rejected for a missing, wrong or stale signature.",
		func() float64 { return float64(billing.SignatureFailures.Value()) })
	stopMetrics, err := c.startMetrics(logger, m)
	if err != nil {
		return err
	}
	defer stopMetrics()

	billingService, err := newBillingService(c.cfg, db, hasher, logger)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", c.cfg.HTTPAddr, err)
	}
	drain := &httpapi.Drain{}
	srv := &http.Server{
		Handler: drain.Wrap(httpapi.NewHandler(httpapi.Options{
			Logger:   logger,
			Region:   c.cfg.Region,
			Version:  version,
			Verifier: license.NewVerifier(st.finder(), hasher),
			Database: db,
			Billing:  billingService,
			Drain:    drain,

			OptionalChecks: append(st.optionalChecks(), replicaChecks...),
			Metrics:        m,
			RateLimiter:    c.rateLimiter(st),
			TrustedProxies: c.cfg.Scale.TrustedProxies,
			VerifyTimeout:  c.cfg.Scale.VerifyTimeout,
		})),
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
	return c.shutdown(logger, srv, drain)
}

// shutdown drains the server, then stops it. During the drain delay
// /api/health returns 503 while every request is still served, so load
// balancers take the server out before its listener closes. Then Shutdown
// closes the listener and waits up to the shutdown timeout for in-flight
// requests.
func (c *cli) shutdown(logger *slog.Logger, srv *http.Server, drain *httpapi.Drain) error {
	start := time.Now()
	drain.Start()
	logger.Info("drain started", "drain_delay", c.cfg.DrainDelay.String())
	time.Sleep(c.cfg.DrainDelay)
	logger.Info("drain finished", "duration_ms", time.Since(start).Milliseconds())

	shutdownStart := time.Now()
	logger.Info("shutdown started", "timeout", c.cfg.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("server stopped", "version", version,
		"shutdown_ms", time.Since(shutdownStart).Milliseconds(), "total_ms", time.Since(start).Milliseconds())
	return nil
}
