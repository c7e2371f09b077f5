package postgres

import (
	"context"
	"fmt"
)

// WALPosition returns the server's current write-ahead log position in
// bytes. It fails on a standby, which writes no WAL of its own.
func (db *DB) WALPosition(ctx context.Context) (int64, error) {
	var lsn int64
	err := db.pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&lsn)
	if err != nil {
		return 0, fmt.Errorf("read WAL position: %w", err)
	}
	return lsn, nil
}

// ReplayPosition returns the WAL position up to which a standby has
// replayed, and whether the server is still a standby. A promoted server
// returns inRecovery false.
func (db *DB) ReplayPosition(ctx context.Context) (lsn int64, inRecovery bool, err error) {
	err = db.pool.QueryRow(ctx, `
		SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint, 0), pg_is_in_recovery()`).
		Scan(&lsn, &inRecovery)
	if err != nil {
		return 0, false, fmt.Errorf("read replay position: %w", err)
	}
	return lsn, inRecovery, nil
}
