package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rescuepc/licensing/internal/license"
)

// seeded is one license the load test may send.
type seeded struct {
	Tenant, Email, Key string
}

// loadLicenses reads the keys file, seeding it first when it is missing and
// --seed-with is set.
func loadLicenses(ctx context.Context, o options) ([]seeded, error) {
	list, err := readKeys(o.keysPath)
	if err == nil {
		return list, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if o.seedWith == "" {
		return nil, fmt.Errorf("keys file %s not found: pass --seed-with bin/licensing to create it", o.keysPath)
	}
	list, err = seed(ctx, o)
	if err != nil {
		return nil, err
	}
	return list, writeKeys(o.keysPath, list)
}

// seed creates tenants load-1 to load-N (unless they exist) and imports
// --licenses new licenses into each with the licensing CLI.
func seed(ctx context.Context, o options) ([]seeded, error) {
	existing, err := runCLI(ctx, o.seedWith, "tenants", "list")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	var all []seeded
	for i := 1; i <= o.tenants; i++ {
		tenantID := fmt.Sprintf("load-%d", i)
		if !hasTenant(existing, tenantID) {
			if _, err := runCLI(ctx, o.seedWith, "tenants", "create", tenantID, "--name", "Load test "+tenantID); err != nil {
				return nil, err
			}
		}
		list, err := importLicenses(ctx, o, dir, tenantID)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
	}
	return all, nil
}

func importLicenses(ctx context.Context, o options, dir, tenantID string) ([]seeded, error) {
	var list []seeded
	var b strings.Builder
	b.WriteString("email,license_key,status,plan,expires_at\n")
	for j := 0; j < o.perTenant; j++ {
		key, err := license.NewKey()
		if err != nil {
			return nil, err
		}
		email := fmt.Sprintf("user%d@%s.example.com", j, tenantID)
		list = append(list, seeded{Tenant: tenantID, Email: email, Key: key})
		fmt.Fprintf(&b, "%s,%s,active,pro,\n", email, key)
	}
	path := filepath.Join(dir, tenantID+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	if _, err := runCLI(ctx, o.seedWith, "licenses", "import", "--tenant", tenantID, path); err != nil {
		return nil, err
	}
	return list, nil
}

func hasTenant(listing, id string) bool {
	for _, line := range strings.Split(listing, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == id {
			return true
		}
	}
	return false
}

func runCLI(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func readKeys(path string) ([]seeded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	list := make([]seeded, 0, len(rows))
	for i, r := range rows {
		if len(r) != 3 {
			return nil, fmt.Errorf("%s line %d: want tenant,email,key", path, i+1)
		}
		list = append(list, seeded{Tenant: r[0], Email: r[1], Key: r[2]})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s has no licenses; delete it to seed again", path)
	}
	return list, nil
}

// writeKeys stores the seeded keys, readable only by the owner because they
// are live license keys.
func writeKeys(path string, list []seeded) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	for _, s := range list {
		_ = w.Write([]string{s.Tenant, s.Email, s.Key})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func countTenants(list []seeded) int {
	seen := map[string]bool{}
	for _, s := range list {
		seen[s.Tenant] = true
	}
	return len(seen)
}
