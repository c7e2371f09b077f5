// Command bench measures /api/verify-license on this machine and writes the
// results to docs/benchmarks.md. It creates a fresh database on the
// PostgreSQL server at --database-url, seeds licenses with COPY, starts the
// licensing server (and a private redis-server for the cache runs) on free
// loopback ports, drives it with vegeta at full speed with --workers
// concurrent requests, runs pgbench with the statements of one cache-off
// verification, and drops the database at the end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/rescuepc/licensing/internal/license"
)

type options struct {
	databaseURL string
	licensing   string
	out         string
	duration    time.Duration
	warmup      time.Duration
	workers     int
	dbConns     int
	small       int
	large       int
	profile     bool
}

// bench carries one benchmark run's settings and results.
type bench struct {
	opts        options
	tmp         string
	secret      string
	metricsAddr string
	hasher      *license.Hasher
	rows        []row
	pgbench     map[int]pgbenchResult
	profiles    []namedProfile
	commit      string
	redis       *redisServer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server, as a role that may create databases and roles")
	fs.StringVar(&o.licensing, "licensing", "bin/licensing", "licensing binary to benchmark")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "page to write the results into")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each run")
	fs.IntVar(&o.workers, "workers", 16, "concurrent HTTP requests")
	fs.IntVar(&o.dbConns, "db-conns", 8, "server pool size (DB_MAX_CONNS) and pgbench clients")
	fs.IntVar(&o.small, "small", 10_000, "licenses in the small run")
	fs.IntVar(&o.large, "large", 1_000_000, "licenses in the large run")
	fs.BoolVar(&o.profile, "profile", true, "take CPU profiles of the server during the runs at --large licenses")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.duration < time.Second || o.duration > 5*time.Minute || o.workers < 1 || o.dbConns < 1 ||
		o.small < 1 || o.large < o.small {
		return o, errors.New("need 1s <= --duration <= 5m, --workers and --db-conns >= 1, 1 <= --small <= --large")
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	// The commit is read before the runs, so edits during a run do not
	// mark it dirty.
	b := &bench{opts: opts, pgbench: map[int]pgbenchResult{}, commit: commit()}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	b.secret = hex.EncodeToString(secret)
	if b.hasher, err = license.NewHasher(b.secret); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "licensing-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	b.metricsAddr = "off"
	if opts.profile {
		if b.metricsAddr, err = freeAddr(); err != nil {
			return err
		}
	}

	db, err := createDB(ctx, opts.databaseURL, b.hasher)
	if err != nil {
		return err
	}
	defer db.drop(context.Background(), opts.databaseURL)
	redis, err := startRedis(b.tmp)
	if err != nil {
		return err
	}
	defer redis.stop()
	b.redis = redis

	if err := b.runAll(ctx, db, redis); err != nil {
		return err
	}
	page := b.report(strings.Join(os.Args, " "))
	fmt.Println(page)
	return writePage(opts.out, page)
}

// runAll runs every measurement in order: the HTTP ceiling, then each
// size with the cache off, the database ceiling and the cache warm.
func (b *bench) runAll(ctx context.Context, db *benchDB, redis *redisServer) error {
	say := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }
	warmRuns := 0
	for _, size := range []int{b.opts.small, b.opts.large} {
		say("seeding %d licenses", size)
		start := time.Now()
		if err := db.seedTo(ctx, size); err != nil {
			return err
		}
		say("seeded in %s", time.Since(start).Round(time.Second))

		if size == b.opts.small {
			say("run: /api/health/live")
			if err := b.measure(ctx, "`/api/health/live`", size, serverConfig{dbURL: db.appURL}, liveTargeter); err != nil {
				return err
			}
			for _, mode := range []string{"exec", "simple_protocol"} {
				say("run: verify, cache off, pgx %s mode", mode)
				if err := b.measure(ctx, "verify, cache off, `"+mode+"` mode", size,
					serverConfig{dbURL: db.appURL, execMode: mode}, verifyTargeter(size)); err != nil {
					return err
				}
			}
		}
		say("run: verify, cache off, %d licenses", size)
		if err := b.measure(ctx, "verify, cache off", size, serverConfig{dbURL: db.appURL}, verifyTargeter(size)); err != nil {
			return err
		}
		say("run: pgbench, %d licenses", size)
		res, err := b.runPgbench(db)
		if err != nil {
			return err
		}
		b.pgbench[size] = res
		say("run: verify, cache warm, %d licenses", size)
		warmRuns++
		if err := b.measureWarm(ctx, size, serverConfig{dbURL: db.appURL, redisURL: redis.database(warmRuns)}); err != nil {
			return err
		}
	}
	return nil
}
