package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/rescuepc/licensing/internal/loadgen"
)

// warmSet is the number of distinct licenses in the cache-warm runs.
const warmSet = 10_000

// namedProfile is pprof's top functions during one run.
type namedProfile struct {
	run, top string
}

// row is one measured run.
type row struct {
	Name    string
	Size    int
	Summary loadgen.Summary
	PeakRSS int64
	// Counters holds the server's cache and Redis error counters at the
	// end of the run, when the metrics listener is on.
	Counters map[string]float64
	// CPU is the CPU time per request of each process group.
	CPU cpuSample
}

// scrape reads the cache lookup and Redis error counters from the server's
// metrics endpoint.
func (b *bench) scrape() map[string]float64 {
	if b.metricsAddr == "off" {
		return nil
	}
	resp, err := http.Get("http://" + b.metricsAddr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	counters := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		for _, name := range []string{`licensing_cache_lookups_total{result="hit"}`, `licensing_cache_lookups_total{result="miss"}`,
			`licensing_cache_lookups_total{result="error"}`, "licensing_redis_errors_total"} {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				counters[name], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	return counters
}

// measure starts a server, loads it for the warm-up, then measures it for
// the run's duration and records the server's peak memory.
func (b *bench) measure(ctx context.Context, name string, size int, sc serverConfig, newTargeter targeterFactory) error {
	s, err := b.startServer(sc)
	if err != nil {
		return err
	}
	defer s.stop()
	loadgen.Attack(newTargeter(s.base), 0, b.opts.warmup, b.opts.workers)
	return b.record(ctx, name, size, s, newTargeter)
}

// targeterFactory returns a fresh targeter against the server at base.
type targeterFactory func(base string) vegeta.Targeter

// measureWarm fills the cache with warmSet licenses, one request each,
// then measures verifies of those licenses only.
func (b *bench) measureWarm(ctx context.Context, size int, sc serverConfig) error {
	s, err := b.startServer(sc)
	if err != nil {
		return err
	}
	defer s.stop()
	n := min(size, warmSet)
	if err := fillCache(s.base, n, b.opts.workers); err != nil {
		return err
	}
	return b.record(ctx, fmt.Sprintf("verify, cache warm (%d hot licenses)", n), size, s, verifyTargeter(n))
}

// fillCache verifies licenses 0 to n-1 once each with the given
// concurrency and checks that each is valid.
func fillCache(base string, n, workers int) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := verifyOnce(base, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		select {
		case jobs <- i:
		case err = <-errs:
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}

func verifyOnce(base string, i int) error {
	t := verifyTarget(base, i)
	req, err := t.Request()
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Code != "VALID" {
		return fmt.Errorf("cache fill: license %d returned %d %q (%v), want VALID", i, resp.StatusCode, v.Code, err)
	}
	return nil
}

func (b *bench) record(ctx context.Context, name string, size int, s *server, newTargeter targeterFactory) error {
	before := b.sampleCPU(s)
	summary := loadgen.Attack(newTargeter(s.base), 0, b.opts.duration, b.opts.workers)
	cpu := perRequest(before, b.sampleCPU(s), summary.Requests)
	if summary.Status["200"] != int(summary.Requests) {
		return fmt.Errorf("%s: status counts %v, want only 200", name, summary.Status)
	}
	rss, err := s.peakRSS()
	if err != nil {
		return err
	}
	b.rows = append(b.rows, row{Name: name, Size: size, Summary: summary, PeakRSS: rss, Counters: b.scrape(), CPU: cpu})
	fmt.Fprintf(os.Stderr, "bench: %s: %.0f requests/s, p50 %s, p99 %s, peak RSS %.1f MiB\n",
		name, summary.Throughput, summary.P50, summary.P99, float64(rss)/(1<<20))

	if b.opts.profile && size == b.opts.large {
		b.profileRun(ctx, name, s, newTargeter)
	}
	return nil
}

// profileRun repeats the run's load, unmeasured, for half the run's
// duration while it takes a CPU profile, so profiling never slows a
// measured run.
func (b *bench) profileRun(ctx context.Context, name string, s *server, newTargeter targeterFactory) {
	var wg sync.WaitGroup
	var top string
	wg.Go(func() { top = b.takeProfile(ctx) })
	loadgen.Attack(newTargeter(s.base), 0, b.opts.duration/2+time.Second, b.opts.workers)
	wg.Wait()
	b.profiles = append(b.profiles, namedProfile{run: name, top: top})
}

// takeProfile fetches a CPU profile over half the run from the server's
// pprof endpoint and returns pprof's top functions.
func (b *bench) takeProfile(ctx context.Context) string {
	seconds := max(1, int(b.opts.duration.Seconds()/2))
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.metricsAddr, seconds)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "profile failed: " + err.Error()
	}
	defer resp.Body.Close()
	path := filepath.Join(b.tmp, "cpu.pprof")
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return "profile failed: " + err.Error()
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", b.opts.licensing, path).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go tool pprof failed: %v\n%s", err, out)
	}
	return string(out)
}

func liveTargeter(base string) vegeta.Targeter {
	return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: base + "/api/health/live"})
}

// verifyTargeter returns a factory of targeters that verify a random one of
// the first n seeded licenses.
func verifyTargeter(n int) targeterFactory {
	return func(base string) vegeta.Targeter {
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		return func(t *vegeta.Target) error {
			mu.Lock()
			i := rng.IntN(n)
			mu.Unlock()
			*t = verifyTarget(base, i)
			return nil
		}
	}
}

func verifyTarget(base string, i int) vegeta.Target {
	body, _ := json.Marshal(map[string]string{"email": benchEmail(i), "licenseKey": benchKey(i)})
	return vegeta.Target{Method: http.MethodPost, URL: base + "/api/verify-license", Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Tenant-ID": {benchTenant}}}
}
