package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pgbenchScript holds exactly the statements that one cache-off
// verification sends (internal/postgres: setTenantSQL, then the FindByKey
// lookup), pipelined like pgx's batch: one round trip, one implicit
// transaction. pgbench runs it with -M prepared, which matches pgx's
// default cache_statement mode: each connection prepares each statement
// once.
const pgbenchScript = `\set n random(:base, :base + :rows - 1)
\startpipeline
SELECT set_config('app.tenant_id', :tenant, true), set_config('statement_timeout', :timeout, true);
SELECT id, tenant_id, email, key_prefix, key_hash, status, plan, expires_at, created_at, updated_at FROM licenses WHERE tenant_id = :tenant AND key_hash = :n AND email = :email;
\endpipeline
`

// pgbenchResult is pgbench's throughput and mean latency.
type pgbenchResult struct {
	TPS     float64
	Latency time.Duration
	Command string
	// CPU holds pgbench's own CPU per transaction as the load generator.
	// PostgreSQL's share is not known, because pgbench's backends exit
	// before they can be sampled.
	CPU cpuSample
}

var (
	tpsLine       = regexp.MustCompile(`tps = ([0-9.]+)`)
	latencyLine   = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	processedLine = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
)

// runPgbench runs the script against the rows seeded so far with the
// server's pool size as the client count.
func (b *bench) runPgbench(db *benchDB) (pgbenchResult, error) {
	script := filepath.Join(b.tmp, "verify.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return pgbenchResult{}, err
	}
	u, _ := url.Parse(db.appURL)
	password, _ := u.User.Password()
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(b.opts.dbConns), "-j", "2",
		"-T", strconv.Itoa(int(b.opts.duration.Seconds())), "-f", script,
		"-D", "tenant=" + benchTenant, "-D", "email=" + pgbenchEmail, "-D", "timeout=5000",
		"-D", "base=" + strconv.Itoa(pgbenchBase), "-D", "rows=" + strconv.Itoa(db.seeded),
		"-h", u.Hostname(), "-p", portOf(u), "-U", u.User.Username(), db.name}
	cmd := exec.Command("pgbench", args...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	res := pgbenchResult{Command: "pgbench " + strings.Join(args, " ")}
	if m := tpsLine.FindSubmatch(out); m != nil {
		res.TPS, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := latencyLine.FindSubmatch(out); m != nil {
		ms, _ := strconv.ParseFloat(string(m[1]), 64)
		res.Latency = time.Duration(ms * float64(time.Millisecond))
	}
	if res.TPS == 0 {
		return res, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	if m := processedLine.FindSubmatch(out); m != nil {
		n, _ := strconv.ParseUint(string(m[1]), 10, 64)
		res.CPU.loader = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()) / time.Duration(max(n, 1))
	}
	return res, nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "5432"
}
