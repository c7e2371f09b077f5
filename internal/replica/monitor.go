// Package replica sends read-only license lookups to a streaming read
// replica while it is fresh enough, and to the primary otherwise.
package replica

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Primary reports the primary's current WAL position.
type Primary interface {
	WALPosition(ctx context.Context) (int64, error)
}

// Standby reports how far a standby has replayed.
type Standby interface {
	ReplayPosition(ctx context.Context) (lsn int64, inRecovery bool, err error)
}

// sample is the primary's WAL position at one moment.
type sample struct {
	at  time.Time
	lsn int64
}

// maxSamples bounds the memory of a monitor whose replica stopped replaying.
const maxSamples = 100_000

// Monitor measures how far a replica's replay lags behind the primary. Each
// interval it reads the primary's current WAL position, then the replica's
// replayed position. The lag is the time since the newest primary position
// that the replica has replayed, so it stays near zero on an idle primary
// and grows while replay is stopped, with a resolution of one interval.
type Monitor struct {
	primary  Primary
	replica  Standby
	interval time.Duration
	logger   *slog.Logger

	mu         sync.Mutex
	pending    []sample // primary positions the replica has not replayed, oldest first
	replayedAt time.Time
	checkedAt  time.Time
	reachable  bool
	lastErr    error
}

// NewMonitor returns a monitor of replica against primary. Call Run to
// start measuring; until the first measurement the replica counts as
// unreachable.
func NewMonitor(primary Primary, replica Standby, interval time.Duration, logger *slog.Logger) *Monitor {
	return &Monitor{primary: primary, replica: replica, interval: interval, logger: logger}
}

// Run measures every interval until ctx is canceled.
func (m *Monitor) Run(ctx context.Context) {
	ticker := time.NewTicker(m.interval)
	defer ticker.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Check takes one measurement. The two servers are asked at once, each
// within one interval, so a hung primary cannot make the replica look
// unreachable. Reading them at once can only overstate the lag, by at most
// one interval.
func (m *Monitor) Check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, m.interval)
	defer cancel()

	// The primary's position is read after at, so a replica that replayed
	// it holds everything written before at.
	at := time.Now()
	var (
		primaryLSN int64
		primaryErr error
		done       = make(chan struct{})
	)
	go func() {
		defer close(done)
		primaryLSN, primaryErr = m.primary.WALPosition(ctx)
	}()
	replayed, inRecovery, replicaErr := m.replica.ReplayPosition(ctx)
	<-done
	m.record(at, primaryLSN, primaryErr == nil, replayed, inRecovery, replicaErr)
}

func (m *Monitor) record(now time.Time, primaryLSN int64, primaryOK bool, replayed int64, inRecovery bool, replicaErr error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	m.checkedAt = now
	if replicaErr != nil {
		if m.reachable || m.lastErr == nil {
			m.logger.Warn("replica unreachable; reads go to the primary", "error", replicaErr)
		}
		m.reachable, m.lastErr = false, replicaErr
		return
	}
	if !m.reachable && m.lastErr != nil {
		m.logger.Info("replica reachable again")
	}
	m.reachable, m.lastErr = true, nil
	if m.replayedAt.IsZero() {
		m.replayedAt = now
	}
	if primaryOK && len(m.pending) < maxSamples {
		m.pending = append(m.pending, sample{at: now, lsn: primaryLSN})
	}
	// A promoted replica is a primary: nothing is left to replay.
	for len(m.pending) > 0 && (!inRecovery || m.pending[0].lsn <= replayed) {
		m.replayedAt = m.pending[0].at
		m.pending = m.pending[1:]
	}
}

// Status is one reading of the replica's state.
type Status struct {
	Reachable bool
	Lag       time.Duration
}

// Status returns the latest reading. A reading older than three intervals
// counts as unreachable, so a stuck monitor never keeps reads on a replica.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if !m.reachable || now.Sub(m.checkedAt) > 3*m.interval {
		return Status{}
	}
	if len(m.pending) == 0 {
		return Status{Reachable: true}
	}
	return Status{Reachable: true, Lag: now.Sub(m.replayedAt)}
}
