#!/usr/bin/env bash
# Prepares a local database for 'make run' and writes its settings to
# .dev/env: DATABASE_URL for the server's role, MIGRATION_DATABASE_URL for
# the owner, and a generated LICENSE_KEY_SECRET.
#
# It uses the PostgreSQL server at DEV_PGHOST:DEV_PGPORT (127.0.0.1:5432) as
# user postgres when one responds there. Otherwise, when the server binaries
# are installed, it starts a throwaway cluster under .dev/pgdata on
# 127.0.0.1:15439. With neither, it says what to install.
set -euo pipefail

cd "$(dirname "$0")/.."
dev=$PWD/.dev
env_file=$dev/env
host=${DEV_PGHOST:-127.0.0.1}
port=${DEV_PGPORT:-5432}
mkdir -p "$dev"

log() { echo "dev-db: $*" >&2; }

find_pg_bin() {
	local dir
	for dir in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return 0
		fi
	done
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

# Runs a command as the postgres user when this script runs as root,
# because initdb and the server refuse to run as root.
as_pg_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start_throwaway_cluster() {
	local bin=$1
	port=15439
	host=127.0.0.1
	if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then
		return 0
	fi
	if [ ! -s "$dev/pgdata/PG_VERSION" ]; then
		log "creating a throwaway PostgreSQL cluster in $dev/pgdata"
		mkdir -p "$dev/pgdata"
		[ "$(id -u)" = 0 ] && chown postgres: "$dev/pgdata"
		as_pg_owner "$bin/initdb" -D "$dev/pgdata" -U postgres --auth=trust >/dev/null
	fi
	log "starting the throwaway cluster on $host:$port"
	as_pg_owner "$bin/pg_ctl" -D "$dev/pgdata" -l "$dev/pgdata/server.log" -w \
		-o "-p $port -c listen_addresses=$host -k /tmp" start >/dev/null
}

if ! command -v psql >/dev/null; then
	log "psql is missing; install the PostgreSQL client (Debian: apt-get install postgresql-client)"
	exit 1
fi

if ! pg_isready -q -h "$host" -p "$port" 2>/dev/null; then
	if bin=$(find_pg_bin); then
		log "no PostgreSQL responds on $host:$port"
		start_throwaway_cluster "$bin"
	else
		log "no PostgreSQL responds on $host:$port and no server binaries (initdb, pg_ctl) are installed."
		log "Install them (Debian: apt-get install postgresql) or start a server on $host:$port."
		exit 1
	fi
fi

admin_base="postgres://postgres@$host:$port"
if [ ! -s "$env_file" ]; then
	log "writing development settings to $env_file"
	secret=$(openssl rand -hex 32)
	password=$(openssl rand -hex 16)
	umask 077
	cat >"$env_file" <<ENV
# Development settings written by scripts/dev-db.sh; not committed.
DATABASE_URL=postgres://licensing:$password@$host:$port/licensing?sslmode=disable
MIGRATION_DATABASE_URL=$admin_base/licensing?sslmode=disable
LICENSE_KEY_SECRET=$secret
DEV_DB_PASSWORD=$password
ENV
	# The server and the commands that change licenses share the verdict
	# cache, so both read REDIS_URL from here.
	if command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then
		echo "REDIS_URL=redis://127.0.0.1:6379/0" >>"$env_file"
	else
		log "no Redis responds on 127.0.0.1:6379; running without the verdict cache"
	fi
fi
# shellcheck disable=SC1090
. "$env_file"

if ! psql "$admin_base/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = 'licensing'" | grep -q 1; then
	log "creating database licensing"
	psql "$admin_base/postgres" -qc "CREATE DATABASE licensing"
fi
