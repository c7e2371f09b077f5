package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
)

// Names in the benchmark database.
const (
	benchTenant   = "bench"
	benchRole     = "licensing_bench"
	benchPassword = "licensing-bench"
	pgbenchEmail  = "pgbench@bench.example.com"
	// pgbenchBase is the first pgbench row's key hash, as decimal digits.
	// pgbench variables are integers, so its rows store the digits of
	// their number as key_hash; the lookup is the same index probe.
	pgbenchBase = 1_000_000_000_000_000_000
)

// benchDB is a fresh database for one benchmark run.
type benchDB struct {
	name     string
	adminURL string // the owner, for seeding
	appURL   string // the server's role, subject to row-level security
	admin    *pgx.Conn
	hasher   *license.Hasher
	seeded   int
}

// createDB creates, migrates and prepares a randomly named database on the
// server at baseURL.
func createDB(ctx context.Context, baseURL string, hasher *license.Hasher) (*benchDB, error) {
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", baseURL, err)
	}
	defer conn.Close(ctx)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "licensing_bench_" + hex.EncodeToString(suffix)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}

	db := &benchDB{name: name, hasher: hasher}
	db.adminURL, db.appURL = withDB(baseURL, name, nil), withDB(baseURL, name, url.UserPassword(benchRole, benchPassword))
	if err := db.prepare(ctx); err != nil {
		db.drop(ctx, baseURL)
		return nil, err
	}
	return db, nil
}

func (db *benchDB) prepare(ctx context.Context) error {
	m, err := postgres.NewMigrator(db.adminURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db.admin, err = pgx.Connect(ctx, db.adminURL)
	if err != nil {
		return err
	}
	// The pgbench rows' key hashes are 19 digits, not 32 bytes, so the
	// length check goes; nothing else in this throwaway database changes.
	_, err = db.admin.Exec(ctx, `
DO $$
DECLARE c text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+benchRole+`') THEN
        CREATE ROLE `+benchRole+` LOGIN PASSWORD '`+benchPassword+`' IN ROLE `+postgres.AppRole+`;
    END IF;
    SELECT conname INTO c FROM pg_constraint
     WHERE conrelid = 'licenses'::regclass AND pg_get_constraintdef(oid) LIKE '%octet_length%';
    EXECUTE format('ALTER TABLE licenses DROP CONSTRAINT %I', c);
END
$$;
INSERT INTO tenants (id, name) VALUES ('`+benchTenant+`', 'Benchmark');`)
	return err
}

// benchKey returns the key of license i. Keys are derived from i, so the
// load generator needs no list of them.
func benchKey(i int) string { return fmt.Sprintf("BENCH-%010d-KEY", i) }

func benchEmail(i int) string { return "user" + strconv.Itoa(i) + "@bench.example.com" }

// seedTo adds licenses until the tenant has n verifiable ones and n pgbench
// rows, with COPY, then updates the planner statistics.
func (db *benchDB) seedTo(ctx context.Context, n int) error {
	from := db.seeded
	cols := []string{"tenant_id", "email", "key_hash", "key_prefix", "status", "plan"}
	rows := pgx.CopyFromFunc(rowsFrom(from, n, func(i int) []any {
		key := benchKey(i)
		return []any{benchTenant, benchEmail(i), db.hasher.Hash(key), license.KeyPrefix(key), "active", "pro"}
	}))
	if _, err := db.admin.CopyFrom(ctx, pgx.Identifier{"licenses"}, cols, rows); err != nil {
		return fmt.Errorf("copy licenses: %w", err)
	}
	rows = pgx.CopyFromFunc(rowsFrom(from, n, func(i int) []any {
		return []any{benchTenant, pgbenchEmail, []byte(strconv.Itoa(pgbenchBase + i)), "PGBE", "active", "pro"}
	}))
	if _, err := db.admin.CopyFrom(ctx, pgx.Identifier{"licenses"}, cols, rows); err != nil {
		return fmt.Errorf("copy pgbench rows: %w", err)
	}
	if _, err := db.admin.Exec(ctx, "VACUUM ANALYZE licenses"); err != nil {
		return err
	}
	db.seeded = n
	return nil
}

func rowsFrom(from, to int, row func(int) []any) func() ([]any, error) {
	i := from
	return func() ([]any, error) {
		if i >= to {
			return nil, nil
		}
		i++
		return row(i - 1), nil
	}
}

func (db *benchDB) drop(ctx context.Context, baseURL string) {
	if db.admin != nil {
		db.admin.Close(ctx)
	}
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)")
}

func withDB(base, name string, user *url.Userinfo) string {
	u, _ := url.Parse(base)
	u.Path = "/" + name
	if user != nil {
		u.User = user
	}
	return u.String()
}
