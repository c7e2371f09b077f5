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
	db, err := postgres.Open(ctx, c.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckRowSecurity(ctx); err != nil {
		return err
	}
	finder, _, closeReader, err := c.openReader(ctx, db, logger)
	if err != nil {
		return err
	}
	defer closeReader()

	billingService, err := newBillingService(c.cfg, db, hasher, logger)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", c.cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler: httpapi.NewHandler(httpapi.Options{
			Logger:   logger,
			Region:   c.cfg.Region,
			Version:  version,
			Verifier: license.NewVerifier(finder, hasher),
			Database: db,
			Billing:  billingService,
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
