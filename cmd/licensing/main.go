// Command licensing serves the RescuePC license API and manages its
// database: migrations, tenants and licenses.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rescuepc/licensing/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Usage: licensing COMMAND [ARGS]

Commands:
  serve                                  run the HTTP server
  migrate up | status                    apply or list database migrations
  tenants create ID [--name NAME]        create a tenant
  tenants list                           list tenants
  licenses issue --tenant ID --email EMAIL [--plan PLAN] [--expires RFC3339 | --days N]
                                         issue a license and print its key
  licenses revoke|suspend|reinstate --tenant ID KEY_OR_ID
                                         change a license's status
  licenses list --tenant ID [--email EMAIL]
                                         list licenses without their keys
  licenses import --tenant ID FILE.csv   import licenses, all or none
  licenses show --tenant ID KEY_OR_ID    print a license and its status history
  events list [--failed] [--limit N]     list received Stripe events, newest first
  events retry EVENT_ID                  apply a failed Stripe event again
  stripe sign-fixture FILE               print a Stripe-Signature header for FILE,
                                         signed with the first STRIPE_WEBHOOK_SECRET
  healthcheck                            exit 0 when the local server's /api/health answers 200
  version                                print the version

Configuration comes from the environment; see README.md.
`

// errUsage marks errors caused by a malformed command line.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "licensing:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// cli carries what every command needs.
type cli struct {
	stdout, stderr io.Writer
	cfg            config.Config
}

// run executes one command. Tests call it directly with their own
// environment and writers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "version" {
		fmt.Fprintln(stdout, version)
		return nil
	}
	if args[0] == "healthcheck" {
		return healthcheck(ctx, stdout, getenv)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	c := &cli{stdout: stdout, stderr: stderr, cfg: cfg}

	switch args[0] {
	case "serve":
		return c.serve(ctx)
	case "migrate":
		return c.migrate(ctx, args[1:])
	case "tenants":
		return c.tenants(ctx, args[1:])
	case "licenses":
		return c.licenses(ctx, args[1:])
	case "events":
		return c.events(ctx, args[1:])
	case "stripe":
		return c.stripe(args[1:])
	}
	return fmt.Errorf("%w: unknown command %q; run 'licensing help'", errUsage, args[0])
}

// newLogger returns a JSON logger that adds the region to every line.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel})
	return slog.New(h).With("region", cfg.Region)
}
