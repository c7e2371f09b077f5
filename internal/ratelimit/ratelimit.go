// Package ratelimit limits verify attempts per client IP and failed
// verifications per tenant and email. The counters live in Redis (GCRA from
// github.com/go-redis/redis_rate), so the limits hold across instances; when
// Redis is away, or not configured, each instance limits on its own with an
// in-process limiter.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/rescuepc/licensing/internal/redisconn"
	"github.com/rescuepc/licensing/internal/tenant"
)

// Options sets the limits. A zero count turns that limit off.
type Options struct {
	// IPPerMinute is the number of verify requests per client IP per minute.
	IPPerMinute int
	// FailedPerHour is the number of failed verifications per tenant and
	// email per hour.
	FailedPerHour int
	// Prefix starts every Redis key, such as "licensing:".
	Prefix string
}

// Limiter applies the limits. It is safe for concurrent use.
type Limiter struct {
	conn   *redisconn.Conn
	redis  *redis_rate.Limiter
	ip     redis_rate.Limit
	failed redis_rate.Limit
	prefix string
	local  *localLimiter
}

// New returns a Limiter that keeps its counters in Redis through conn, or in
// process when conn is nil or faulty.
func New(conn *redisconn.Conn, opts Options) *Limiter {
	l := &Limiter{prefix: opts.Prefix, local: newLocalLimiter()}
	if opts.IPPerMinute > 0 {
		l.ip = redis_rate.PerMinute(opts.IPPerMinute)
	}
	if opts.FailedPerHour > 0 {
		l.failed = redis_rate.PerHour(opts.FailedPerHour)
	}
	if conn != nil {
		l.conn, l.redis = conn, redis_rate.NewLimiter(conn.Client)
	}
	return l
}

// AllowIP counts one verify attempt from ip. It returns false and the time
// until the next allowed attempt when ip is over its limit.
func (l *Limiter) AllowIP(ctx context.Context, ip netip.Addr) (time.Duration, bool) {
	if l.ip.IsZero() {
		return 0, true
	}
	return l.take(ctx, "ip:"+ip.String(), l.ip, 1)
}

// CheckFailed reports whether the tenant and email have a failed attempt
// left, without using it up. It returns false and the time until one is
// left when they do not.
func (l *Limiter) CheckFailed(ctx context.Context, tenantID tenant.ID, email string) (time.Duration, bool) {
	if l.failed.IsZero() {
		return 0, true
	}
	return l.take(ctx, failedKey(tenantID, email), l.failed, 0)
}

// RecordFailed uses up one failed attempt of the tenant and email.
func (l *Limiter) RecordFailed(ctx context.Context, tenantID tenant.ID, email string) {
	if !l.failed.IsZero() {
		l.take(ctx, failedKey(tenantID, email), l.failed, 1)
	}
}

// failedKey hashes the tenant and email, so Redis never holds an email.
func failedKey(tenantID tenant.ID, email string) string {
	sum := sha256.Sum256([]byte(string(tenantID) + "\x00" + email))
	return "failed:" + hex.EncodeToString(sum[:16])
}

// take uses cost events of key's budget; a cost of 0 only checks that one
// event is left. It asks Redis when it is usable and the local limiter
// otherwise.
func (l *Limiter) take(ctx context.Context, key string, limit redis_rate.Limit, cost int) (time.Duration, bool) {
	if l.redis == nil || !l.conn.Usable() {
		return l.local.take(key, limit, cost)
	}
	rctx, cancel := l.conn.Context(ctx)
	defer cancel()
	res, err := l.redis.AllowN(rctx, l.prefix+key, limit, cost)
	if err != nil {
		l.conn.Fault("rate limit", err)
		return l.local.take(key, limit, cost)
	}
	if cost == 0 {
		return checkResult(res)
	}
	if res.Allowed < cost {
		return res.RetryAfter, false
	}
	return 0, true
}

// checkResult interprets a zero-cost GCRA call: the budget has an event
// left when Remaining is at least 1. The wait for the next event is the
// time until the state is one emission interval short of a full reset.
func checkResult(res *redis_rate.Result) (time.Duration, bool) {
	if res.Remaining >= 1 {
		return 0, true
	}
	interval := res.Limit.Period / time.Duration(res.Limit.Rate)
	wait := res.ResetAfter - time.Duration(res.Limit.Burst-1)*interval
	if wait <= 0 {
		wait = time.Second
	}
	return wait, false
}
