// Package metrics collects the service's Prometheus metrics. Every method
// accepts a nil *Metrics and then does nothing, so packages and tests that
// need no metrics pass nil.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the service's collectors in their own registry.
type Metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	verdicts    *prometheus.CounterVec
	cache       *prometheus.CounterVec
	redisErrors prometheus.Counter
	dbErrors    prometheus.Counter
	rateLimited *prometheus.CounterVec
}

// New returns Metrics registered in a fresh registry together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensing_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "licensing_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensing_verdicts_total", Help: "Verification verdicts by code.",
		}, []string{"code"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensing_cache_lookups_total", Help: "Verdict cache lookups by result: hit, miss or error.",
		}, []string{"result"}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "licensing_redis_errors_total", Help: "Failed Redis calls.",
		}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "licensing_database_errors_total", Help: "Verifications that failed in the database.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensing_rate_limited_total", Help: "Requests rejected with 429, by limit: ip or failed.",
		}, []string{"limit"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.verdicts, m.cache, m.redisErrors, m.dbErrors, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler returns the /metrics handler for the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveRequest counts one HTTP request and records its latency.
func (m *Metrics) ObserveRequest(route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
}

// Verdict counts one verdict.
func (m *Metrics) Verdict(code string) {
	if m != nil {
		m.verdicts.WithLabelValues(code).Inc()
	}
}

// CacheLookup counts one cache lookup with result hit, miss or error.
func (m *Metrics) CacheLookup(result string) {
	if m != nil {
		m.cache.WithLabelValues(result).Inc()
	}
}

// RedisError counts one failed Redis call.
func (m *Metrics) RedisError() {
	if m != nil {
		m.redisErrors.Inc()
	}
}

// DatabaseError counts one verification that failed in the database.
func (m *Metrics) DatabaseError() {
	if m != nil {
		m.dbErrors.Inc()
	}
}

// RateLimited counts one request rejected by the named limit.
func (m *Metrics) RateLimited(limit string) {
	if m != nil {
		m.rateLimited.WithLabelValues(limit).Inc()
	}
}

// RegisterPool exports the statistics that stat returns, read at each
// scrape.
func (m *Metrics) RegisterPool(stat func() *pgxpool.Stat) {
	if m == nil {
		return
	}
	gauge := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return f(stat()) })
	}
	counter := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return f(stat()) })
	}
	m.registry.MustRegister(
		gauge("licensing_db_pool_max_conns", "Pool size.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		gauge("licensing_db_pool_total_conns", "Open connections.", func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		gauge("licensing_db_pool_acquired_conns", "Connections in use.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		gauge("licensing_db_pool_idle_conns", "Idle connections.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		counter("licensing_db_pool_acquires_total", "Connection acquisitions.", func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
		counter("licensing_db_pool_empty_acquires_total", "Acquisitions that waited for a connection.", func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		counter("licensing_db_pool_acquire_wait_seconds_total", "Time spent acquiring connections.", func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
	)
}

// RegisterCounterFunc exports a counter that another package keeps, read
// at each scrape.
func (m *Metrics) RegisterCounterFunc(name, help string, value func() float64) {
	if m == nil {
		return
	}
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value))
}
