package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

func (c *cli) tenants(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: tenants takes a subcommand: create or list", errUsage)
	}
	switch args[0] {
	case "create":
		return c.createTenant(ctx, args[1:])
	case "list":
		return c.listTenants(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown tenants subcommand %q: use create or list", errUsage, args[0])
}

func (c *cli) createTenant(ctx context.Context, args []string) error {
	fs := newFlagSet("tenants create", c.stderr)
	name := fs.String("name", "", "display name (default: the ID)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs("tenants create", pos, "ID"); err != nil {
		return err
	}
	id, err := tenant.Parse(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *name == "" {
		*name = string(id)
	}

	db, err := postgres.Open(ctx, c.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.CreateTenant(ctx, id, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created tenant %s (%s)\n", t.ID, t.Name)
	return nil
}

func (c *cli) listTenants(ctx context.Context, args []string) error {
	if err := wantArgs("tenants list", args); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, c.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.ListTenants(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
