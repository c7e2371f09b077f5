package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/rescuepc/licensing/migrations"
)

// Migrator applies the embedded migrations. Concurrent migrators on one
// database take turns through a session-level advisory lock, so each
// migration runs once and the others wait, then find nothing left to do.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// NewMigrator connects to the database at url, which must name a role that
// may create tables and roles, such as the database owner.
func NewMigrator(url string, logger *slog.Logger) (*Migrator, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse migration database URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)

	// Poll for the lock every second for up to ten minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		db.Close()
		return nil, err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithSlog(logger))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{db: db, provider: provider}, nil
}

// Close closes the migrator's connections.
func (m *Migrator) Close() error { return m.provider.Close() }

// Up applies every pending migration and returns how many it applied.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	results, err := m.provider.Up(ctx)
	if pgErrorCode(err) == codeInsufficientPrivilege {
		return len(results), fmt.Errorf("migrate up: %w; migrations must run as the tables' owner: "+
			"set MIGRATION_DATABASE_URL to that role's connection string", err)
	}
	if err != nil {
		return len(results), fmt.Errorf("migrate up: %w", err)
	}
	return len(results), nil
}

// MigrationState describes one migration and when it was applied.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
	At      string
}

// Status returns the state of every embedded migration.
func (m *Migrator) Status(ctx context.Context) ([]MigrationState, error) {
	list, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	states := make([]MigrationState, 0, len(list))
	for _, s := range list {
		st := MigrationState{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
		if st.Applied {
			st.At = s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		states = append(states, st)
	}
	return states, nil
}
