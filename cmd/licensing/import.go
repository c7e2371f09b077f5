package main

import (
	"context"
	"fmt"
	"os"

	"github.com/rescuepc/licensing/internal/csvimport"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
)

// importLicenses loads a CSV file into a tenant, all rows or none.
func (c *cli) importLicenses(ctx context.Context, args []string) error {
	fs := newFlagSet("licenses import", c.stderr)
	tid, pos, err := parseTenantArgs(fs, args, "FILE.csv")
	if err != nil {
		return err
	}
	hasher, err := license.NewHasher(c.cfg.LicenseKeySecret)
	if err != nil {
		return err
	}

	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csvimport.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}

	list := make([]postgres.ImportLicense, len(rows))
	for i, r := range rows {
		list[i] = postgres.ImportLicense{Line: r.Line, NewLicense: postgres.NewLicense{
			Email: r.Email, KeyHash: hasher.Hash(r.Key), KeyPrefix: license.KeyPrefix(r.Key),
			Status: r.Status, Plan: r.Plan, ExpiresAt: r.ExpiresAt,
		}}
	}
	db, closeDB, err := c.openLicenseStore(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := db.ImportLicenses(ctx, tid, list)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(c.stdout, "%s: %d row(s): %d imported, %d updated, %d unchanged\n",
		pos[0], len(rows), res.Inserted, res.Updated, res.Unchanged)
	return nil
}
