package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options sizes the pool and bounds its waits.
type Options struct {
	// MaxConns is the pool size; 0 keeps pgx's default, which is the
	// larger of 4 and the number of CPUs.
	MaxConns int
	// ConnectTimeout bounds opening one connection and the first ping.
	ConnectTimeout time.Duration
	// StatementTimeout is set as statement_timeout in every tenant-scoped
	// transaction; 0 means no limit.
	StatementTimeout time.Duration
}

// DefaultOptions returns the options that Open uses.
func DefaultOptions() Options {
	return Options{ConnectTimeout: 5 * time.Second, StatementTimeout: 5 * time.Second}
}

// OpenWithOptions connects to the database at url with opts and checks that
// it responds. The query exec mode comes from url's default_query_exec_mode
// parameter; through PgBouncer in transaction mode it must be exec or
// simple_protocol, because PgBouncer before 1.21 does not track named
// prepared statements.
func OpenWithOptions(ctx context.Context, url string, opts Options) (*DB, error) {
	db, err := OpenLazy(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	pingTimeout := opts.ConnectTimeout
	if pingTimeout <= 0 {
		pingTimeout = DefaultOptions().ConnectTimeout
	}
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := db.pool.Ping(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database as %q: %w", db.pool.Config().ConnConfig.User, err)
	}
	return db, nil
}

// OpenLazy returns a pool for the database at url without connecting, so a
// server can start while an optional database, such as a replica, is down.
func OpenLazy(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	if opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	timeout := strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	return &DB{pool: pool, statementTimeout: timeout}, nil
}

// Stat returns the pool's current statistics, for metrics.
func (db *DB) Stat() *pgxpool.Stat { return db.pool.Stat() }
