// Command drillload sends a constant-rate load of license verifications
// and liveness probes to one URL, such as the nginx in front of a
// blue-green pair, until it is interrupted or its maximum duration passes.
// It then prints the requests sent, the answers per status and the
// failures, and exits 1 unless every request got a 2xx response.
//
// It is the load of scripts/drill.sh. Each request opens a new connection,
// like the desktop app, which checks its license once per start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// options are the command-line flags.
type options struct {
	baseURL     string
	rate        int
	maxDuration time.Duration
	timeout     time.Duration
	tenant      string
	email       string
	keyFile     string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "drillload:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("drillload", flag.ContinueOnError)
	fs.StringVar(&o.baseURL, "url", "", "base URL to load, such as http://127.0.0.1:8080 (required)")
	fs.IntVar(&o.rate, "rate", 50, "requests per second")
	fs.DurationVar(&o.maxDuration, "max-duration", 3*time.Minute, "stop after this long even when not interrupted")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.StringVar(&o.tenant, "tenant", "default", "X-Tenant-ID of the verifications")
	fs.StringVar(&o.email, "email", "", "email of the license to verify (required)")
	fs.StringVar(&o.keyFile, "key-file", "", "file that contains the license key to verify (required)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.baseURL == "" || o.email == "" || o.keyFile == "":
		return o, errors.New("-url, -email and -key-file are required")
	case o.rate < 1:
		return o, fmt.Errorf("-rate %d is invalid: use 1 or more requests per second", o.rate)
	}
	return o, nil
}

// targets returns a verification of the license and a liveness probe,
// which the attack sends in turn.
func targets(o options) ([]vegeta.Target, error) {
	key, err := os.ReadFile(o.keyFile)
	if err != nil {
		return nil, fmt.Errorf("read -key-file: %w", err)
	}
	body := fmt.Sprintf(`{"email":%q,"licenseKey":%q}`, o.email, strings.TrimSpace(string(key)))
	verify := vegeta.Target{
		Method: http.MethodPost,
		URL:    strings.TrimRight(o.baseURL, "/") + "/api/verify-license",
		Body:   []byte(body),
		Header: http.Header{"Content-Type": {"application/json"}, "X-Tenant-ID": {o.tenant}},
	}
	live := vegeta.Target{Method: http.MethodGet, URL: strings.TrimRight(o.baseURL, "/") + "/api/health/live"}
	return []vegeta.Target{verify, live}, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	tgts, err := targets(o)
	if err != nil {
		return err
	}

	attacker := vegeta.NewAttacker(vegeta.KeepAlive(false), vegeta.Timeout(o.timeout), vegeta.Redirects(vegeta.NoFollow))
	go func() {
		<-ctx.Done()
		attacker.Stop()
	}()
	rate := vegeta.Rate{Freq: o.rate, Per: time.Second}
	fmt.Fprintf(stdout, "drillload: sending %d requests per second to %s\n", o.rate, o.baseURL)

	tally := newTally()
	for res := range attacker.Attack(vegeta.NewStaticTargeter(tgts...), rate, o.maxDuration, "drill") {
		tally.add(res)
	}
	tally.print(stdout, o.rate)
	return tally.err()
}
