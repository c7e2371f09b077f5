package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rescuepc/licensing/internal/tenant"
)

// RateLimiter limits verify attempts per client IP and failed verifications
// per tenant and email. Each method returns false and the time until the
// next allowed attempt when a limit is reached.
type RateLimiter interface {
	AllowIP(ctx context.Context, ip netip.Addr) (time.Duration, bool)
	CheckFailed(ctx context.Context, tenantID tenant.ID, email string) (time.Duration, bool)
	RecordFailed(ctx context.Context, tenantID tenant.ID, email string)
}

// withIPLimit responds 429 when the client IP is over its verify limit.
func withIPLimit(opts Options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if opts.RateLimiter == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := clientIP(r, opts.TrustedProxies)
			if wait, ok := opts.RateLimiter.AllowIP(r.Context(), ip); !ok {
				opts.Metrics.RateLimited("ip")
				writeError(w, r, opts.Logger, &Error{Status: http.StatusTooManyRequests, Code: codeRateLimited,
					RetryAfter: wait, Message: "too many verify requests from this address; retry after the Retry-After delay"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// checkFailedLimit returns a 429 error when the tenant and email have used
// up their failed attempts.
func checkFailedLimit(ctx context.Context, opts Options, tid tenant.ID, email string) error {
	if opts.RateLimiter == nil {
		return nil
	}
	wait, ok := opts.RateLimiter.CheckFailed(ctx, tid, email)
	if ok {
		return nil
	}
	opts.Metrics.RateLimited("failed")
	return &Error{Status: http.StatusTooManyRequests, Code: codeRateLimited, Field: "email", RetryAfter: wait,
		Message: "too many failed verifications for this email; retry after the Retry-After delay"}
}

// clientIP returns the address of the client. It believes X-Forwarded-For
// only when the direct peer is in trusted, and then takes the rightmost
// address that is not itself a trusted proxy, since a client can prepend
// any addresses it likes.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := remoteAddr(r)
	if !inPrefixes(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = addr.Unmap()
		if !inPrefixes(client, trusted) {
			break
		}
	}
	return client
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

func inPrefixes(addr netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
