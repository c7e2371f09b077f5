package ratelimit

import (
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/time/rate"
)

// maxLocalKeys bounds the in-process limiter's memory. When a new key would
// exceed it, every counter starts over, which briefly loosens the limits
// rather than growing without bound under a flood of distinct IPs.
const maxLocalKeys = 100_000

// localLimiter is the in-process fallback: one token bucket per key.
type localLimiter struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newLocalLimiter() *localLimiter {
	return &localLimiter{limiters: map[string]*rate.Limiter{}}
}

// take uses cost tokens of key's bucket, or only checks for one token when
// cost is 0, and returns the wait when the bucket is short.
func (l *localLimiter) take(key string, limit redis_rate.Limit, cost int) (time.Duration, bool) {
	lim := l.limiter(key, limit)
	now := time.Now()
	perSecond := float64(limit.Rate) / limit.Period.Seconds()
	if cost == 0 {
		tokens := lim.TokensAt(now)
		if tokens >= 1 {
			return 0, true
		}
		return time.Duration((1 - tokens) / perSecond * float64(time.Second)), false
	}
	r := lim.ReserveN(now, cost)
	if !r.OK() {
		return limit.Period, false
	}
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return delay, false
	}
	return 0, true
}

func (l *localLimiter) limiter(key string, limit redis_rate.Limit) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limiters[key]
	if !ok {
		if len(l.limiters) >= maxLocalKeys {
			clear(l.limiters)
		}
		perSecond := float64(limit.Rate) / limit.Period.Seconds()
		lim = rate.NewLimiter(rate.Limit(perSecond), limit.Burst)
		l.limiters[key] = lim
	}
	return lim
}
