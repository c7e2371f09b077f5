package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/rescuepc/licensing/internal/postgres"
)

// migrate applies or lists migrations as the owner role in
// MIGRATION_DATABASE_URL, or DATABASE_URL when that is unset.
func (c *cli) migrate(ctx context.Context, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "status") {
		return fmt.Errorf("%w: migrate takes one argument: up or status", errUsage)
	}
	m, err := postgres.NewMigrator(c.cfg.MigrationDatabaseURL, newLogger(c.stderr, c.cfg))
	if err != nil {
		return err
	}
	defer m.Close()

	if args[0] == "up" {
		n, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "applied %d migration(s)\n", n)
		return nil
	}

	states, err := m.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tAPPLIED AT\tFILE")
	for _, s := range states {
		state, at := "pending", "-"
		if s.Applied {
			state, at = "applied", s.At
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Version, state, at, s.Name)
	}
	return tw.Flush()
}
