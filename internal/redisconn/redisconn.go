// Package redisconn connects to the Redis server that the verdict cache and
// the rate limits share, and tracks its faults. Every call gets a short
// timeout, a fault makes callers skip Redis for a moment, and faults are
// logged at most once per interval.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rescuepc/licensing/internal/metrics"
)

// Timing of fault handling.
const (
	// skipAfterFault is how long callers bypass Redis after a fault, so a
	// dead or hung Redis costs one timeout per interval, not one per request.
	skipAfterFault = time.Second
	// logInterval is the shortest time between two fault log lines.
	logInterval = 10 * time.Second
)

// Conn is a Redis client with fault tracking.
type Conn struct {
	// Client is the go-redis client. Callers bound each call with Context.
	Client  *redis.Client
	timeout time.Duration
	logger  *slog.Logger
	metrics *metrics.Metrics

	mu         sync.Mutex
	skipUntil  time.Time
	lastLog    time.Time
	suppressed int
}

// Open returns a Conn to the server at url, such as redis://127.0.0.1:6379/0,
// with every call bounded by timeout. It does not connect: a Redis that is
// away at start is a fault like any other.
func Open(url string, timeout time.Duration, logger *slog.Logger, m *metrics.Metrics) (*Conn, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opts.DialTimeout = timeout
	opts.ReadTimeout = timeout
	opts.WriteTimeout = timeout
	opts.PoolTimeout = timeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1 // a retry doubles the cost of a fault; PostgreSQL is the fallback
	opts.DialerRetries = 1
	opts.DisableIdentity = true
	return &Conn{Client: redis.NewClient(opts), timeout: timeout, logger: logger, metrics: m}, nil
}

// quietLogger drops go-redis's own log lines, which it writes for every
// failed dial. The failed call still returns its error to a caller, which
// passes it to Fault, and Fault logs at most once per logInterval.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietLogger{}) }

// Close closes the client's connections.
func (c *Conn) Close() error { return c.Client.Close() }

// Context returns ctx bounded by the Redis timeout.
func (c *Conn) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// Usable reports whether callers should try Redis now: false for a moment
// after a fault.
func (c *Conn) Usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().After(c.skipUntil)
}

// Fault records a failed call of operation op. It ignores nil and
// redis.Nil, which means a missing key. Callers then use their fallback.
func (c *Conn) Fault(op string, err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	c.metrics.RedisError()

	c.mu.Lock()
	now := time.Now()
	c.skipUntil = now.Add(skipAfterFault)
	if now.Sub(c.lastLog) < logInterval {
		c.suppressed++
		c.mu.Unlock()
		return
	}
	suppressed := c.suppressed
	c.lastLog, c.suppressed = now, 0
	c.mu.Unlock()

	c.logger.Warn("redis call failed; using the fallback", "operation", op, "error", err,
		"faults_not_logged", suppressed, "log_interval", logInterval.String())
}

// Ping checks that Redis responds within the timeout and records a fault
// when it does not.
func (c *Conn) Ping(ctx context.Context) error {
	ctx, cancel := c.Context(ctx)
	defer cancel()
	err := c.Client.Ping(ctx).Err()
	if err != nil {
		c.Fault("ping", err)
		return err
	}
	c.mu.Lock()
	c.skipUntil = time.Time{}
	c.mu.Unlock()
	return nil
}
