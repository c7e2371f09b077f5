// Package loadgen drives HTTP load with vegeta (github.com/tsenart/vegeta)
// for the load test and the benchmark, and checks that a target is on
// loopback before it is attacked.
package loadgen

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Summary is the outcome of one attack.
type Summary struct {
	Requests   uint64
	Duration   time.Duration
	Throughput float64 // requests per second, counting every response
	P50        time.Duration
	P95        time.Duration
	P99        time.Duration
	Max        time.Duration
	Status     map[string]int
	Errors     []string
}

// Attack sends the targets from targeter for duration and summarizes the
// responses. A rate of 0 sends as fast as workers concurrent requests allow;
// otherwise it sends rate requests per second with up to workers in flight.
func Attack(targeter vegeta.Targeter, rate int, duration time.Duration, workers int) Summary {
	opts := []func(*vegeta.Attacker){
		vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)),
		vegeta.Connections(workers), vegeta.MaxConnections(workers),
		vegeta.KeepAlive(true), vegeta.Timeout(10 * time.Second), vegeta.Redirects(vegeta.NoFollow),
	}
	attacker := vegeta.NewAttacker(opts...)
	pacer := vegeta.Rate{Freq: rate, Per: time.Second}

	var m vegeta.Metrics
	for res := range attacker.Attack(targeter, pacer, duration, "load") {
		m.Add(res)
	}
	m.Close()

	s := Summary{Requests: m.Requests, Duration: m.Duration + m.Wait, P50: m.Latencies.P50, P95: m.Latencies.P95,
		P99: m.Latencies.P99, Max: m.Latencies.Max, Status: m.StatusCodes, Errors: m.Errors}
	if s.Duration > 0 {
		s.Throughput = float64(m.Requests) / s.Duration.Seconds()
	}
	return s
}

// Print writes s in a few aligned lines.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "requests     %d in %s\n", s.Requests, s.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput   %.0f requests/s\n", s.Throughput)
	fmt.Fprintf(w, "latency      p50 %s  p95 %s  p99 %s  max %s\n",
		round(s.P50), round(s.P95), round(s.P99), round(s.Max))
	codes := make([]string, 0, len(s.Status))
	for code := range s.Status {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, code := range codes {
		parts[i] = code + ": " + strconv.Itoa(s.Status[code])
	}
	fmt.Fprintf(w, "status       %s\n", strings.Join(parts, "  "))
	for i, e := range s.Errors {
		if i == 5 {
			fmt.Fprintf(w, "             ... %d more errors\n", len(s.Errors)-5)
			break
		}
		fmt.Fprintf(w, "error        %s\n", e)
	}
}

func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

// CheckLoopback returns an error unless every address of target's host is
// a loopback address.
func CheckLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("target %q is invalid: use a URL such as http://127.0.0.1:3000", target)
	}
	addrs, err := net.LookupIP(u.Hostname())
	if err != nil {
		return fmt.Errorf("resolve target host %s: %w", u.Hostname(), err)
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			return fmt.Errorf("target %s resolves to %s, which is not loopback; pass --allow-remote to load a remote host", target, a)
		}
	}
	return nil
}
