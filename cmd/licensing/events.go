package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
)

func (c *cli) events(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: events takes a subcommand: list or retry", errUsage)
	}
	switch args[0] {
	case "list":
		return c.listEvents(ctx, args[1:])
	case "retry":
		return c.retryEvent(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown events subcommand %q", errUsage, args[0])
}

// listEvents prints stored Stripe events, newest first.
func (c *cli) listEvents(ctx context.Context, args []string) error {
	fs := newFlagSet("events list", c.stderr)
	failed := fs.Bool("failed", false, "only events that failed and can be retried")
	limit := fs.Int("limit", 100, "maximum number of events to print")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs("events list", pos); err != nil {
		return err
	}
	if *limit <= 0 {
		return fmt.Errorf("%w: --limit must be positive", errUsage)
	}

	db, err := postgres.Open(ctx, c.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.ListStripeEvents(ctx, *failed, *limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tTENANT\tSTATUS\tRECEIVED\tREASON")
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Type, e.TenantID, e.Status,
			e.ReceivedAt.UTC().Format(time.RFC3339), e.Reason)
	}
	return tw.Flush()
}

// retryEvent applies a stored failed event again.
func (c *cli) retryEvent(ctx context.Context, args []string) error {
	fs := newFlagSet("events retry", c.stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs("events retry", pos, "EVENT_ID"); err != nil {
		return err
	}
	hasher, err := license.NewHasher(c.cfg.LicenseKeySecret)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, c.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := billing.NewService(billingOptions(c.cfg, db, hasher, newLogger(c.stderr, c.cfg)))
	if err != nil {
		return err
	}

	out, err := svc.Retry(ctx, pos[0])
	if err != nil {
		return err
	}
	if out.Status == billing.StatusFailed {
		return fmt.Errorf("event %s failed again: %s", pos[0], out.Reason)
	}
	fmt.Fprintf(c.stdout, "event %s %s\n", pos[0], describeOutcome(out))
	return nil
}

func describeOutcome(out billing.Outcome) string {
	if out.Reason == "" {
		return out.Status
	}
	return out.Status + ": " + out.Reason
}

// showLicense prints one license and its status history.
func (c *cli) showLicense(ctx context.Context, args []string) error {
	fs := newFlagSet("licenses show", c.stderr)
	tenantFlag := fs.String("tenant", "", "tenant ID (required)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs("licenses show", pos, "KEY_OR_ID"); err != nil {
		return err
	}
	tid, err := requireTenant(*tenantFlag)
	if err != nil {
		return err
	}
	ref, err := c.licenseRef(pos[0])
	if err != nil {
		return err
	}

	db, err := postgres.Open(ctx, c.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	l, history, err := db.LicenseHistory(ctx, tid, ref)
	if err != nil {
		return err
	}
	printLicense(c, l, history)
	return nil
}

func printLicense(c *cli, l license.License, history []postgres.LicenseEvent) {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\t%s\nKEY\t%s...\nEMAIL\t%s\nSTATUS\t%s\nPLAN\t%s\nEXPIRES\t%s\nCREATED\t%s\n",
		l.ID, l.KeyPrefix, l.Email, l.Status, l.Plan, formatExpiry(l.ExpiresAt), l.CreatedAt.UTC().Format(time.RFC3339))
	tw.Flush()

	fmt.Fprintln(c.stdout, "\nHISTORY")
	tw = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tFROM\tTO\tCAUSE")
	for _, e := range history {
		from := string(e.From)
		if from == "" {
			from = "(issued)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.CreatedAt.UTC().Format(time.RFC3339), from, e.To, e.Cause)
	}
	tw.Flush()
}

func (c *cli) stripe(args []string) error {
	if len(args) == 0 || args[0] != "sign-fixture" {
		return fmt.Errorf("%w: stripe takes the subcommand sign-fixture", errUsage)
	}
	return c.signFixture(args[1:])
}

// signFixture prints a Stripe-Signature header for a file, made now with
// the first STRIPE_WEBHOOK_SECRET, so a fixture can be sent with curl.
func (c *cli) signFixture(args []string) error {
	fs := newFlagSet("stripe sign-fixture", c.stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs("stripe sign-fixture", pos, "FILE"); err != nil {
		return err
	}
	if len(c.cfg.Stripe.WebhookSecrets) == 0 {
		return errors.New("STRIPE_WEBHOOK_SECRET is not set; set it to the secret the server uses")
	}
	payload, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: c.cfg.Stripe.WebhookSecrets[0],
	})
	fmt.Fprintln(c.stdout, signed.Header)
	return nil
}
