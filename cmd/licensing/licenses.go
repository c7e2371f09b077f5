package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

func (c *cli) licenses(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: licenses takes a subcommand: issue, revoke, suspend, reinstate, list, show or import", errUsage)
	}
	switch args[0] {
	case "issue":
		return c.issueLicense(ctx, args[1:])
	case "revoke":
		return c.setLicenseStatus(ctx, "revoke", license.StatusRevoked, args[1:])
	case "suspend":
		return c.setLicenseStatus(ctx, "suspend", license.StatusSuspended, args[1:])
	case "reinstate":
		return c.setLicenseStatus(ctx, "reinstate", license.StatusActive, args[1:])
	case "list":
		return c.listLicenses(ctx, args[1:])
	case "import":
		return c.importLicenses(ctx, args[1:])
	case "show":
		return c.showLicense(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown licenses subcommand %q: use issue, revoke, suspend, reinstate, list or import", errUsage, args[0])
}

// issueLicense creates a license and prints its key alone on stdout, so a
// script can capture it; the details go to stderr.
func (c *cli) issueLicense(ctx context.Context, args []string) error {
	fs := newFlagSet("licenses issue", c.stderr)
	email := fs.String("email", "", "customer email (required)")
	plan := fs.String("plan", license.DefaultPlan, "plan name")
	expires := fs.String("expires", "", "expiry time in RFC 3339, such as 2027-01-31T00:00:00Z")
	days := fs.Int("days", 0, "expiry in days from now")
	tid, _, err := parseTenantArgs(fs, args)
	if err != nil {
		return err
	}
	addr := license.NormalizeEmail(*email)
	if err := license.ValidateEmail(addr); err != nil {
		return fmt.Errorf("%w: --email %s", errUsage, err)
	}
	if *plan == "" {
		return fmt.Errorf("%w: --plan must not be empty", errUsage)
	}
	expiresAt, err := parseExpiry(*expires, *days, time.Now())
	if err != nil {
		return err
	}

	hasher, err := license.NewHasher(c.cfg.LicenseKeySecret)
	if err != nil {
		return err
	}
	key, err := license.NewKey()
	if err != nil {
		return err
	}
	db, closeDB, err := c.openLicenseStore(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	l, err := db.CreateLicense(ctx, tid, postgres.NewLicense{
		Email: addr, KeyHash: hasher.Hash(key), KeyPrefix: license.KeyPrefix(key),
		Status: license.StatusActive, Plan: *plan, ExpiresAt: expiresAt,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "issued license %s for %s in tenant %s, plan %s, expires %s\n",
		l.ID, l.Email, tid, l.Plan, formatExpiry(l.ExpiresAt))
	fmt.Fprintln(c.stdout, key)
	return nil
}

func parseExpiry(expires string, days int, now time.Time) (*time.Time, error) {
	switch {
	case expires != "" && days != 0:
		return nil, fmt.Errorf("%w: use --expires or --days, not both", errUsage)
	case days < 0:
		return nil, fmt.Errorf("%w: --days must be positive", errUsage)
	case days > 0:
		t := now.AddDate(0, 0, days).UTC().Truncate(time.Second)
		return &t, nil
	case expires != "":
		t, err := time.Parse(time.RFC3339, expires)
		if err != nil {
			return nil, fmt.Errorf("%w: --expires %q is invalid: use RFC 3339, such as 2027-01-31T00:00:00Z", errUsage, expires)
		}
		if !t.After(now) {
			return nil, fmt.Errorf("%w: --expires %s is in the past", errUsage, expires)
		}
		return &t, nil
	}
	return nil, nil
}

// parseTenantArgs adds the required --tenant flag to fs, parses args and
// checks that the positional arguments match names.
func parseTenantArgs(fs *flag.FlagSet, args []string, names ...string) (tenant.ID, []string, error) {
	tenantFlag := fs.String("tenant", "", "tenant ID (required)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", nil, err
	}
	if err := wantArgs(fs.Name(), pos, names...); err != nil {
		return "", nil, err
	}
	tid, err := requireTenant(*tenantFlag)
	return tid, pos, err
}

func requireTenant(s string) (tenant.ID, error) {
	if s == "" {
		return "", fmt.Errorf("%w: --tenant is required (use 'default' for the default tenant)", errUsage)
	}
	id, err := tenant.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: --tenant: %v", errUsage, err)
	}
	return id, nil
}

var licenseIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (c *cli) setLicenseStatus(ctx context.Context, verb string, status license.Status, args []string) error {
	fs := newFlagSet("licenses "+verb, c.stderr)
	tid, pos, err := parseTenantArgs(fs, args, "KEY_OR_ID")
	if err != nil {
		return err
	}
	ref, err := c.licenseRef(pos[0])
	if err != nil {
		return err
	}

	db, closeDB, err := c.openLicenseStore(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	l, changed, err := db.SetStatus(ctx, tid, ref, status)
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(c.stdout, "license %s is already %s\n", l.ID, l.Status)
		return nil
	}
	fmt.Fprintf(c.stdout, "license %s is now %s\n", l.ID, l.Status)
	return nil
}

// licenseRef reads a license ID or key. A value shaped like an ID may also
// be a legacy key, so it matches either.
func (c *cli) licenseRef(arg string) (postgres.Ref, error) {
	var ref postgres.Ref
	isID := licenseIDPattern.MatchString(arg)
	if isID {
		ref.ID = arg
	}
	hasher, err := license.NewHasher(c.cfg.LicenseKeySecret)
	if err != nil && !isID {
		return ref, fmt.Errorf("a license key needs the secret it was stored under: %w", err)
	}
	if err == nil {
		ref.KeyHash = hasher.Hash(arg)
	}
	return ref, nil
}

// listLicenses prints licenses with their key prefix, never the key.
func (c *cli) listLicenses(ctx context.Context, args []string) error {
	fs := newFlagSet("licenses list", c.stderr)
	email := fs.String("email", "", "only this customer's licenses")
	tid, _, err := parseTenantArgs(fs, args)
	if err != nil {
		return err
	}

	db, closeDB, err := c.openLicenseStore(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	addr := license.NormalizeEmail(*email)
	if addr != "" {
		if err := license.ValidateEmail(addr); err != nil {
			return fmt.Errorf("%w: --email %s", errUsage, err)
		}
	}
	list, err := db.ListLicenses(ctx, tid, addr)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKEY\tEMAIL\tSTATUS\tPLAN\tEXPIRES\tCREATED")
	for _, l := range list {
		fmt.Fprintf(tw, "%s\t%s...\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.KeyPrefix, l.Email, l.Status, l.Plan,
			formatExpiry(l.ExpiresAt), l.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func formatExpiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
