// Command loadtest drives a running licensing server with a mix of verify
// requests at a fixed rate for a fixed time, then prints throughput,
// latency percentiles and the count of each status.
//
// With --seed-with PATH it first creates load-test tenants and licenses
// with that licensing binary, which reads DATABASE_URL and
// LICENSE_KEY_SECRET from the environment, and keeps their keys in
// --keys for later runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/rescuepc/licensing/internal/loadgen"
)

// Bounds that keep a mistyped flag from loading a machine for long.
const (
	maxRate     = 20_000
	maxDuration = 10 * time.Minute
)

type options struct {
	target      string
	rate        int
	duration    time.Duration
	workers     int
	allowRemote bool
	keysPath    string
	seedWith    string
	tenants     int
	perTenant   int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	if !opts.allowRemote {
		if err := loadgen.CheckLoopback(opts.target); err != nil {
			return err
		}
	}

	licenses, err := loadLicenses(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "target       %s, %d requests/s for %s, %d licenses in %d tenants\n",
		opts.target, opts.rate, opts.duration, len(licenses), countTenants(licenses))
	summary := loadgen.Attack(newMix(opts.target, licenses).targeter(), opts.rate, opts.duration, opts.workers)
	summary.Print(stdout)
	return nil
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	target := os.Getenv("TARGET")
	if target == "" {
		target = "http://127.0.0.1:3000"
	}
	fs.StringVar(&o.target, "target", target, "base URL of the server (default from TARGET)")
	fs.IntVar(&o.rate, "rate", 200, fmt.Sprintf("requests per second, 1 to %d", maxRate))
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send, at most "+maxDuration.String())
	fs.IntVar(&o.workers, "workers", 64, "maximum requests in flight")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.StringVar(&o.keysPath, "keys", ".dev/loadtest-keys.csv", "CSV of tenant,email,key to send; written by seeding")
	fs.StringVar(&o.seedWith, "seed-with", "", "licensing binary that seeds tenants and licenses when the keys file is missing")
	fs.IntVar(&o.tenants, "tenants", 20, "tenants to seed")
	fs.IntVar(&o.perTenant, "licenses", 50, "licenses to seed per tenant")
	if err := fs.Parse(args); err != nil {
		return o, err
	}

	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.rate < 1 || o.rate > maxRate:
		return o, fmt.Errorf("--rate %d is invalid: use 1 to %d", o.rate, maxRate)
	case o.duration <= 0 || o.duration > maxDuration:
		return o, fmt.Errorf("--duration %s is invalid: use more than 0 and at most %s", o.duration, maxDuration)
	case o.workers < 1:
		return o, errors.New("--workers must be at least 1")
	case o.tenants < 1 || o.perTenant < 1:
		return o, errors.New("--tenants and --licenses must be at least 1")
	}
	return o, nil
}
