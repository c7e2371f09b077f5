package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// Reader is a license.Finder that reads from a replica while the replica
// is reachable and at most maxLag behind, and from the primary otherwise.
//
// While the replica lags more than staleAfter, a lookup that the replica
// answers with anything other than a valid license is asked again of the
// primary, so a purchase made moments ago is not rejected. Those second
// lookups are limited per instance, so a burst of invalid keys during lag
// cannot move its whole load to the primary. A valid license on a lagging
// replica is served as it is: a revocation reaches the replica's readers
// once replay catches up, or after maxLag, when every read moves to the
// primary.
type Reader struct {
	primary, replica license.Finder
	monitor          *Monitor
	maxLag           time.Duration
	staleAfter       time.Duration
	confirm          *rate.Limiter
	logger           *slog.Logger
	now              func() time.Time

	lastFaultLog atomic.Int64 // unix seconds of the last logged replica error
}

// ReaderOptions sets a Reader's limits.
type ReaderOptions struct {
	MaxLag       time.Duration // reads move to the primary beyond this lag
	StaleAfter   time.Duration // beyond this lag, verdicts other than valid are confirmed on the primary
	ConfirmRate  rate.Limit    // primary confirmations per second
	ConfirmBurst int
}

// NewReader returns a Reader over two finders and the monitor of the
// replica behind the second.
func NewReader(primary, replica license.Finder, monitor *Monitor, opts ReaderOptions, logger *slog.Logger) *Reader {
	return &Reader{
		primary: primary, replica: replica, monitor: monitor,
		maxLag: opts.MaxLag, staleAfter: opts.StaleAfter,
		confirm: rate.NewLimiter(opts.ConfirmRate, opts.ConfirmBurst),
		logger:  logger, now: time.Now,
	}
}

// FindByKey implements license.Finder.
func (r *Reader) FindByKey(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) (license.License, error) {
	st := r.monitor.Status()
	if !st.Reachable || st.Lag > r.maxLag {
		return r.primary.FindByKey(ctx, tenantID, email, keyHash)
	}

	l, err := r.replica.FindByKey(ctx, tenantID, email, keyHash)
	if err != nil && !errors.Is(err, license.ErrNotFound) {
		r.logFault(err)
		return r.primary.FindByKey(ctx, tenantID, email, keyHash)
	}
	valid := err == nil && l.CodeAt(r.now()) == license.CodeValid
	if !valid && st.Lag > r.staleAfter && r.confirm.Allow() {
		return r.primary.FindByKey(ctx, tenantID, email, keyHash)
	}
	return l, err
}

// logFault logs a replica error at most once every ten seconds.
func (r *Reader) logFault(err error) {
	now := r.now().Unix()
	last := r.lastFaultLog.Load()
	if now-last >= 10 && r.lastFaultLog.CompareAndSwap(last, now) {
		r.logger.Warn("replica lookup failed; reading from the primary", "error", err)
	}
}

// Ping returns an error when verification reads cannot use the replica:
// it is unreachable or lags more than the maximum lag. It makes the
// replica a health check, which reports the instance as degraded but still
// ready, because reads then go to the primary.
func (r *Reader) Ping(ctx context.Context) error {
	st := r.monitor.Status()
	switch {
	case !st.Reachable:
		return errors.New("replica unreachable; reads go to the primary")
	case st.Lag > r.maxLag:
		return fmt.Errorf("replica lags %s, more than REPLICA_MAX_LAG %s; reads go to the primary",
			st.Lag.Round(time.Millisecond), r.maxLag)
	}
	return nil
}

// HealthDetails returns the replica's measured state for /api/health.
func (r *Reader) HealthDetails() map[string]any {
	st := r.monitor.Status()
	details := map[string]any{"replicaReachable": st.Reachable}
	if st.Reachable {
		details["replicaLagSeconds"] = st.Lag.Seconds()
	}
	return details
}
