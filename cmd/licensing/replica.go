package main

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/replica"
)

// replicaCheckInterval is how often the replica's lag is measured.
const replicaCheckInterval = 500 * time.Millisecond

// openReader returns the finder for verification reads: the primary
// alone, or a replica.Reader when DATABASE_READ_URL is set, with its health
// check. The replica's monitor runs until ctx ends; close releases the
// replica's connections.
func (c *cli) openReader(ctx context.Context, primary *postgres.DB, logger *slog.Logger) (license.Finder, []httpapi.Check, func(), error) {
	if c.cfg.Replica.URL == "" {
		return primary, nil, func() {}, nil
	}
	standby, err := postgres.OpenLazy(ctx, c.cfg.Replica.URL, c.poolOptions())
	if err != nil {
		return nil, nil, nil, err
	}
	if err := standby.CheckRowSecurity(ctx); err != nil {
		// An unreachable replica is fine at start-up; a reachable one must be
		// subject to row-level security like the primary.
		if standby.Ping(ctx) == nil {
			standby.Close()
			return nil, nil, nil, err
		}
		logger.Warn("replica unreachable at start-up; reads go to the primary until it returns", "error", err)
	}

	monitor := replica.NewMonitor(primary, standby, replicaCheckInterval, logger)
	go monitor.Run(ctx)
	reader := replica.NewReader(primary, standby, monitor, replica.ReaderOptions{
		MaxLag:       c.cfg.Replica.MaxLag,
		StaleAfter:   c.cfg.Replica.StaleAfter,
		ConfirmRate:  rate.Limit(c.cfg.Replica.ConfirmRate),
		ConfirmBurst: max(1, int(c.cfg.Replica.ConfirmRate)),
	}, logger)
	check := httpapi.Check{Name: "replica", Pinger: reader, Optional: true, Details: reader.HealthDetails}
	return reader, []httpapi.Check{check}, standby.Close, nil
}
