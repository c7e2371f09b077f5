// Package pgtest creates a fresh, migrated PostgreSQL database for each test
// that asks for one, and drops it when the test ends.
//
// The server is the one at TEST_DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/postgres, reached as a role that may
// create databases and roles.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/postgres"
)

// DefaultURL is the server that tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Login role that tests connect as, a member of postgres.AppRole.
const (
	appUser     = "licensing_test_app"
	appPassword = "licensing-test"
)

// Database is one test's database.
type Database struct {
	Name     string
	AdminURL string // the owner's URL: migrations and direct checks
	AppURL   string // the server's URL: subject to row-level security
}

// New creates and migrates a database that is dropped when t ends.
func New(t testing.TB) *Database {
	t.Helper()
	return NewOn(t, serverURL())
}

// NewOn creates and migrates a database on the server at base, a URL of a
// role that may create databases and roles.
func NewOn(t testing.TB, base string) *Database {
	t.Helper()
	db := newEmptyOn(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	migrate(t, ctx, db.AdminURL)
	return db
}

// NewEmpty creates a database without running migrations, dropped when t
// ends.
func NewEmpty(t testing.TB) *Database {
	t.Helper()
	return newEmptyOn(t, serverURL())
}

func serverURL() string {
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		return base
	}
	return DefaultURL
}

func newEmptyOn(t testing.TB, base string) *Database {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to test server %s (start PostgreSQL or set TEST_DATABASE_URL): %v", redact(base), err)
	}
	defer admin.Close(ctx)

	ensureRoles(t, ctx, admin)
	name := "licensing_test_" + randomSuffix(t)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, base, name) })

	db := &Database{
		Name:     name,
		AdminURL: withDatabase(t, base, name, nil),
		AppURL:   withDatabase(t, base, name, url.UserPassword(appUser, appPassword)),
	}
	return db
}

// ensureRoles creates the application role and the tests' login role once
// per server. The advisory lock serializes test packages running in
// parallel, since concurrent CREATE ROLE statements can fail.
func ensureRoles(t testing.TB, ctx context.Context, admin *pgx.Conn) {
	t.Helper()
	_, err := admin.Exec(ctx, `SELECT pg_advisory_lock(727361)`)
	if err != nil {
		t.Fatalf("lock roles: %v", err)
	}
	defer admin.Exec(ctx, `SELECT pg_advisory_unlock(727361)`)

	_, err = admin.Exec(ctx, `
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+postgres.AppRole+`') THEN
        CREATE ROLE `+postgres.AppRole+` NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+appUser+`') THEN
        CREATE ROLE `+appUser+` LOGIN PASSWORD '`+appPassword+`' IN ROLE `+postgres.AppRole+`;
    END IF;
END
$$`)
	if err != nil {
		t.Fatalf("create test roles: %v", err)
	}
}

func migrate(t testing.TB, ctx context.Context, adminURL string) {
	t.Helper()
	m, err := postgres.NewMigrator(adminURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open migrator: %v", err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

func dropDatabase(t testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Logf("drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Logf("drop database %s: %v", name, err)
	}
}

// withDatabase returns base with its database replaced by name and, when
// user is not nil, its user replaced too.
func withDatabase(t testing.TB, base, name string, user *url.Userinfo) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	if user != nil {
		u.User = user
	}
	return u.String()
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// AppURLVia returns AppURL with its host and port replaced by addr, such
// as a fault proxy's address.
func (db *Database) AppURLVia(t testing.TB, addr string) string {
	t.Helper()
	u, err := url.Parse(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// HostPort returns the host:port of the test server.
func (db *Database) HostPort(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}
