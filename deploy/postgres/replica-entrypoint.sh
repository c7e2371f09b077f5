#!/usr/bin/env bash
# Entry point of the eu-west-1 read replica: on first start, copies the
# primary with pg_basebackup, which also writes the standby settings
# (-R), then runs the postgres image's usual entry point on that copy.
set -euo pipefail
: "${PRIMARY_HOST:?set PRIMARY_HOST to the address of the us-east-1 primary}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD in .env.eu-west-1}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	echo "replica: copying the primary at $PRIMARY_HOST:${PRIMARY_PORT:-5432}" >&2
	mkdir -p "$PGDATA"
	chown postgres: "$PGDATA"
	chmod 700 "$PGDATA"
	PGPASSWORD=$REPLICATION_PASSWORD gosu postgres pg_basebackup \
		--host "$PRIMARY_HOST" --port "${PRIMARY_PORT:-5432}" --username replicator \
		--pgdata "$PGDATA" --write-recovery-conf --wal-method stream --checkpoint fast --progress
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
