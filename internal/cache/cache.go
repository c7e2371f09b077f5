// Package cache keeps license lookups in Redis in front of PostgreSQL.
//
// Finder caches the stored fields of a license (ID, status, plan, expiry),
// or the fact that none matched, under a hash of the tenant, email and key
// hash, so Redis never holds a key or an email. The verdict is computed from
// those fields on every request, so a license that expires while cached
// answers EXPIRED. Any Redis fault falls back to PostgreSQL.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/metrics"
	"github.com/rescuepc/licensing/internal/redisconn"
	"github.com/rescuepc/licensing/internal/tenant"
)

// generationTTL is how long an entry's generation counter outlives its last
// change. It must exceed the longest lookup, which VERIFY_TIMEOUT bounds.
const generationTTL = 10 * time.Minute

// Cached values: "not found", or a found license as JSON after the 'L'.
const (
	valueNotFound = "N"
	prefixLicense = 'L'
)

// fillScript stores a lookup result only when the entry's generation is
// still the one read before the lookup, so a lookup that overlapped a
// change never puts the old state back. KEYS: entry, generation. ARGV:
// generation read ("" when absent), value, TTL in milliseconds.
var fillScript = redis.NewScript(`
local gen = redis.call("GET", KEYS[2])
if (gen or "") ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
return 1
`)

// Options configures a Finder.
type Options struct {
	// TTL is how long a found license stays cached.
	TTL time.Duration
	// NegativeTTL is how long "not found" stays cached.
	NegativeTTL time.Duration
	// Prefix starts every Redis key, such as "licensing:".
	Prefix  string
	Metrics *metrics.Metrics
}

// Finder is a license.Finder that caches the results of another Finder.
type Finder struct {
	inner   license.Finder
	conn    *redisconn.Conn
	opts    Options
	flights singleflight.Group
}

// New returns a Finder that caches inner's results in Redis through conn.
func New(inner license.Finder, conn *redisconn.Conn, opts Options) *Finder {
	return &Finder{inner: inner, conn: conn, opts: opts}
}

// cachedLicense is the JSON form of a cached license.
type cachedLicense struct {
	ID        string         `json:"i"`
	Status    license.Status `json:"s"`
	Plan      string         `json:"p"`
	ExpiresAt *time.Time     `json:"e,omitempty"`
}

// FindByKey returns the license from the cache, or from the inner Finder on
// a miss or a Redis fault. Concurrent misses for one entry
// share one lookup. The returned license carries ID, tenant, email, key
// hash, status, plan and expiry; its key prefix and timestamps are empty
// when it comes from the cache.
func (f *Finder) FindByKey(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) (license.License, error) {
	if !tenantID.Valid() {
		return license.License{}, tenant.ErrMissing
	}
	key := f.key(tenantID, email, keyHash)
	l, gen, err, ok := f.get(ctx, key, tenantID, email, keyHash)
	if ok {
		f.opts.Metrics.CacheLookup("hit")
		return l, err
	}

	ch := f.flights.DoChan(key, func() (any, error) {
		return f.lookup(ctx, key, gen, tenantID, email, keyHash)
	})
	select {
	case res := <-ch:
		l, _ := res.Val.(license.License)
		return l, res.Err
	case <-ctx.Done():
		return license.License{}, ctx.Err()
	}
}

// get reads the entry at key and its generation in one round trip. ok is
// false on a miss or a fault.
func (f *Finder) get(ctx context.Context, key string, tenantID tenant.ID, email string, keyHash []byte) (l license.License, gen string, err error, ok bool) {
	if !f.conn.Usable() {
		f.opts.Metrics.CacheLookup("error")
		return l, "", nil, false
	}
	rctx, cancel := f.conn.Context(ctx)
	defer cancel()
	values, rerr := f.conn.Client.MGet(rctx, key, generationKey(key)).Result()
	if rerr != nil {
		f.conn.Fault("get", rerr)
		f.opts.Metrics.CacheLookup("error")
		return l, "", nil, false
	}
	gen, _ = values[1].(string)
	raw, _ := values[0].(string)
	l, err, ok = decode(raw)
	if !ok {
		f.opts.Metrics.CacheLookup("miss")
		return l, gen, nil, false
	}
	l.TenantID, l.Email, l.KeyHash = string(tenantID), email, keyHash
	return l, gen, err, true
}

// lookup asks the inner Finder and fills the cache. It runs once per key
// for all concurrent callers, so it ignores the first caller's cancellation
// but keeps its deadline.
func (f *Finder) lookup(ctx context.Context, key, gen string, tenantID tenant.ID, email string, keyHash []byte) (license.License, error) {
	lctx := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		lctx, cancel = context.WithDeadline(lctx, deadline)
		defer cancel()
	}
	l, err := f.inner.FindByKey(lctx, tenantID, email, keyHash)
	if err != nil && !errors.Is(err, license.ErrNotFound) {
		return l, err
	}
	f.fill(lctx, key, gen, l, err)
	return l, err
}

// fill stores a lookup result unless the entry changed since gen was read.
func (f *Finder) fill(ctx context.Context, key, gen string, l license.License, lookupErr error) {
	if !f.conn.Usable() {
		return
	}
	value, ttl := valueNotFound, f.opts.NegativeTTL
	if lookupErr == nil {
		value, ttl = encode(l), f.opts.TTL
	}
	rctx, cancel := f.conn.Context(ctx)
	defer cancel()
	err := fillScript.Run(rctx, f.conn.Client, []string{key, generationKey(key)}, gen, value, ttl.Milliseconds()).Err()
	if err != nil {
		f.conn.Fault("set", err)
	}
}

// Invalidate deletes the entry for the license and bumps its generation,
// so the next verification reads PostgreSQL and no lookup already in flight
// can put the old state back. It returns the Redis error, if any; the entry
// then lives until its TTL ends.
func (f *Finder) Invalidate(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) error {
	key := f.key(tenantID, email, keyHash)
	f.flights.Forget(key)
	rctx, cancel := f.conn.Context(ctx)
	defer cancel()
	_, err := f.conn.Client.TxPipelined(rctx, func(p redis.Pipeliner) error {
		p.Incr(rctx, generationKey(key))
		p.PExpire(rctx, generationKey(key), generationTTL)
		p.Del(rctx, key)
		return nil
	})
	if err != nil {
		f.conn.Fault("invalidate", err)
		return fmt.Errorf("invalidate cached license: %w", err)
	}
	return nil
}

func generationKey(key string) string { return key + ":gen" }

// key returns the Redis key for a lookup: the prefix and the SHA-256 of
// tenant, email and key hash, each length-prefixed so no two lookups share
// a key.
func (f *Finder) key(tenantID tenant.ID, email string, keyHash []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(tenantID), []byte(email), keyHash} {
		h.Write([]byte{byte(len(part) >> 8), byte(len(part))})
		h.Write(part)
	}
	// The braces make a Redis Cluster hash tag, so an entry and its
	// generation share a slot and one script can touch both.
	return f.opts.Prefix + "license:{" + hex.EncodeToString(h.Sum(nil)) + "}"
}

func encode(l license.License) string {
	b, _ := json.Marshal(cachedLicense{ID: l.ID, Status: l.Status, Plan: l.Plan, ExpiresAt: l.ExpiresAt})
	return string(prefixLicense) + string(b)
}

// decode parses a cached value. ok is false for an absent value or one it
// cannot read, both treated as a miss.
func decode(raw string) (license.License, error, bool) {
	switch {
	case raw == valueNotFound:
		return license.License{}, license.ErrNotFound, true
	case len(raw) > 1 && raw[0] == prefixLicense:
		var c cachedLicense
		if err := json.Unmarshal([]byte(raw[1:]), &c); err != nil {
			return license.License{}, nil, false
		}
		return license.License{ID: c.ID, Status: c.Status, Plan: c.Plan, ExpiresAt: c.ExpiresAt}, nil, true
	}
	return license.License{}, nil, false
}
