package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Markers around the generated part of the page. Text outside them is
// kept when the page is written again.
const (
	beginMarker = "<!-- bench:begin -->"
	endMarker   = "<!-- bench:end -->"
)

// report renders the generated part of the page.
func (b *bench) report(command string) string {
	var w strings.Builder
	fmt.Fprintln(&w, beginMarker)
	fmt.Fprintf(&w, "Measured %s on %s, commit `%s`, with:\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		machine(), b.commit)
	fmt.Fprintf(&w, "```sh\n%s\n```\n\n", command)
	fmt.Fprintf(&w, "Each HTTP run: %s warm-up, then %s at full speed with %d concurrent requests (vegeta). "+
		"Server pool and pgbench clients: %d connections.\n\n",
		b.opts.warmup, b.opts.duration, b.opts.workers, b.opts.dbConns)

	fmt.Fprintln(&w, "| Run | Licenses | Requests/s | p50 | p99 | Server peak RSS | CPU µs per request: server / load generator / PostgreSQL / Redis | Cache hits / misses / Redis errors |")
	fmt.Fprintln(&w, "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
	for _, r := range b.rows {
		fmt.Fprintf(&w, "| %s | %s | %.0f | %s | %s | %.1f MiB | %s | %s |\n", r.Name, count(r.Size), r.Summary.Throughput,
			ms(r.Summary.P50), ms(r.Summary.P99), float64(r.PeakRSS)/(1<<20), cpuCells(r.CPU), cacheCounts(r))
	}
	for _, size := range []int{b.opts.small, b.opts.large} {
		p := b.pgbench[size]
		fmt.Fprintf(&w, "| pgbench, one verification's statements | %s | %.0f | mean %s | | | - / %.0f / n/a / - | |\n",
			count(size), p.TPS, ms(p.Latency), float64(p.CPU.loader)/float64(time.Microsecond))
	}
	fmt.Fprintln(&w)
	b.writeRatios(&w)
	for _, p := range b.profiles {
		fmt.Fprintf(&w, "\nServer CPU profile, %s, %s licenses (`go tool pprof -top`, taken in an unmeasured repeat of the run):\n\n```\n%s```\n",
			p.run, count(b.opts.large), trimProfile(p.top))
	}
	fmt.Fprintf(&w, "\npgbench command (at %s licenses):\n\n```sh\n%s\n```\n", count(b.opts.large), b.pgbench[b.opts.large].Command)
	fmt.Fprintln(&w, endMarker)
	return w.String()
}

func (b *bench) writeRatios(w *strings.Builder) {
	live := b.find("`/api/health/live`", b.opts.small)
	offSmall := b.find("verify, cache off", b.opts.small)
	offLarge := b.find("verify, cache off", b.opts.large)
	warm := b.find("verify, cache warm", b.opts.small)
	execMode := b.find("verify, cache off, `exec` mode", b.opts.small)
	simple := b.find("verify, cache off, `simple_protocol` mode", b.opts.small)
	large := count(b.opts.large)

	fmt.Fprintln(w, "| Ratio, same run | Value | Target | Met |")
	fmt.Fprintln(w, "| --- | ---: | --- | --- |")
	ratio := func(name string, value float64, target string, met bool) {
		fmt.Fprintf(w, "| %s | %.2f | %s | %s |\n", name, value, target, yesNo(met))
	}
	v := warm.Summary.Throughput / live.Summary.Throughput
	ratio("verify with the cache warm / `/api/health/live`", v, ">= 0.50", v >= 0.5)
	for _, r := range []row{offSmall, offLarge} {
		v = r.Summary.Throughput / b.pgbench[r.Size].TPS
		ratio("verify with the cache off / pgbench, "+count(r.Size)+" licenses", v, ">= 0.70", v >= 0.7)
	}
	v = float64(offLarge.Summary.P99) / float64(offSmall.Summary.P99)
	ratio("p99 at "+large+" / p99 at "+count(b.opts.small)+", cache off", v, "<= 1.5", v <= 1.5)
	peak := b.maxRSS(b.opts.large)
	fmt.Fprintf(w, "| server peak RSS at %s licenses | %.1f MiB | < 64 MiB | %s |\n", large, float64(peak)/(1<<20), yesNo(peak < 64<<20))
	for _, r := range []row{execMode, simple} {
		mode := strings.TrimSuffix(strings.TrimPrefix(r.Name, "verify, cache off, "), " mode")
		v = r.Summary.Throughput / offSmall.Summary.Throughput
		fmt.Fprintf(w, "| verify with the cache off, %s / default `cache_statement` mode | %.2f | none: the cost of PgBouncer-safe mode | |\n", mode, v)
	}
}

func (b *bench) find(prefix string, size int) row {
	for _, r := range b.rows {
		if r.Size == size && (r.Name == prefix || strings.HasPrefix(r.Name, prefix+" (")) {
			return r
		}
	}
	return row{Summary: b.rows[0].Summary}
}

func (b *bench) maxRSS(size int) int64 {
	var peak int64
	for _, r := range b.rows {
		if r.Size == size {
			peak = max(peak, r.PeakRSS)
		}
	}
	return peak
}

// writePage replaces the generated part of the page at path, keeping the
// text around it, or writes a new page.
func writePage(path, generated string) error {
	old, err := os.ReadFile(path)
	if err == nil {
		text := string(old)
		begin, end := strings.Index(text, beginMarker), strings.Index(text, endMarker)
		if begin >= 0 && end > begin {
			text = text[:begin] + generated + strings.TrimPrefix(text[end+len(endMarker):], "\n")
			return os.WriteFile(path, []byte(text), 0o644)
		}
	}
	return os.WriteFile(path, []byte("# Benchmarks\n\n"+generated), 0o644)
}

func machine() string {
	cpu := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
		f.Close()
	}
	mem := "unknown memory"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf("%.1f GiB memory", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%s, %d cores, %s, %s", cpu, runtime.NumCPU(), mem, runtime.Version())
}

func commit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// trimProfile keeps pprof's header lines and the function table.
func trimProfile(top string) string {
	var keep []string
	for _, line := range strings.Split(top, "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Type:") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// cacheCounts shows a cache run's counters over the whole server life,
// warm-up and cache fill included.
func cacheCounts(r row) string {
	c := r.Counters
	hits, misses := c[`licensing_cache_lookups_total{result="hit"}`], c[`licensing_cache_lookups_total{result="miss"}`]
	if hits+misses == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f / %.0f / %.0f", hits, misses, c["licensing_redis_errors_total"])
}

func cpuCells(c cpuSample) string {
	us := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }
	return us(c.server) + " / " + us(c.loader) + " / " + us(c.postgres) + " / " + us(c.redis)
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
