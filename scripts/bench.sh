#!/usr/bin/env bash
# Benchmarks /api/verify-license and writes docs/benchmarks.md. Needs the
# PostgreSQL server at BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres, a role that may create
# databases and roles), pgbench, redis-server and Go. It creates and drops
# its own database and runs its own server and redis-server on free
# loopback ports. Extra arguments go to cmd/bench, such as --duration 20s.
set -euo pipefail

cd "$(dirname "$0")/.."
for tool in pgbench redis-server; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found; install it first" >&2; exit 1; }
done
go build -o bin/bench ./cmd/bench
exec bin/bench --database-url "${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}" "$@"
