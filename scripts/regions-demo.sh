#!/usr/bin/env bash
# Runs both regions on this machine and verifies one license through each:
# a primary cluster and a streaming replica (pg_basebackup -R) on loopback
# ports, a us-east-1 instance reading from the primary and a eu-west-1
# instance reading from the replica, each with its own Redis database. It
# then pauses replay on the replica, issues a second license, and verifies
# it through eu-west-1. Everything it starts is stopped when it exits.
set -euo pipefail

cd "$(dirname "$0")/.."
bin=$PWD/bin/licensing
primary_port=${PRIMARY_PORT:-15441}
replica_port=${REPLICA_PORT:-15442}
us_addr=127.0.0.1:${US_PORT:-3101}
eu_addr=127.0.0.1:${EU_PORT:-3102}
secret=$(openssl rand -hex 32)
work=$(mktemp -d /tmp/licensing-regions-XXXXXX)
pids=()

log() { echo "regions: $*" >&2; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/pg_basebackup" ]; then
	log "the PostgreSQL server binaries are missing; on Debian: apt-get install postgresql"
	exit 1
fi

as_pg_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for dir in "$work/replica" "$work/primary"; do
		[ -d "$dir" ] && as_pg_owner "$pg_bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] && chown postgres: "$work"
start_cluster() {
	if ! as_pg_owner "$pg_bin/pg_ctl" -D "$1" -l "$work/$(basename "$1").log" -w \
		-o "-p $2 -c listen_addresses=127.0.0.1 -k $work" start >/dev/null; then
		cat "$work/$(basename "$1").log" >&2
		return 1
	fi
}

log "starting the primary on 127.0.0.1:$primary_port"
as_pg_owner "$pg_bin/initdb" -D "$work/primary" -U postgres --auth=trust --no-sync >/dev/null
echo "host replication all 127.0.0.1/32 trust" >>"$work/primary/pg_hba.conf"
start_cluster "$work/primary" "$primary_port"

admin=postgres://postgres@127.0.0.1:$primary_port
psql "$admin/postgres" -qc "CREATE DATABASE licensing"
DATABASE_URL="$admin/licensing" "$bin" migrate up >&2
psql "$admin/licensing" -qc "CREATE ROLE licensing LOGIN PASSWORD 'regions-demo' IN ROLE licensing_app"

log "starting the replica on 127.0.0.1:$replica_port"
as_pg_owner "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
	-D "$work/replica" -R -X stream --checkpoint=fast --no-sync
start_cluster "$work/replica" "$replica_port"

primary_url="postgres://licensing:regions-demo@127.0.0.1:$primary_port/licensing?sslmode=disable"
replica_url="postgres://licensing:regions-demo@127.0.0.1:$replica_port/licensing?sslmode=disable"
export LICENSE_KEY_SECRET=$secret DATABASE_URL=$primary_url

start_instance() {
	local region=$1 addr=$2 redis_db=$3 read_url=$4
	# Both instances run on this host, so each takes a free metrics port.
	APP_REGION=$region HTTP_ADDR=$addr METRICS_ADDR=127.0.0.1:0 DATABASE_READ_URL=$read_url \
		REDIS_URL=redis://127.0.0.1:6379/$redis_db \
		"$bin" serve >"$work/$region.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		curl -sf "http://$addr/api/health" >/dev/null && return 0
		sleep 0.2
	done
	log "$region did not become healthy:"
	cat "$work/$region.log" >&2
	exit 1
}
log "starting us-east-1 on $us_addr and eu-west-1 on $eu_addr"
start_instance us-east-1 "$us_addr" 1 ""
start_instance eu-west-1 "$eu_addr" 2 "$replica_url"

verify() {
	curl -s -D - -o "$work/body" -X POST "http://$1/api/verify-license" \
		-H 'Content-Type: application/json' -d "{\"email\": \"$2\", \"licenseKey\": \"$3\"}" |
		tr -d '\r' | grep -i '^x-region:' | tr '\n' ' '
	cat "$work/body"
}

key=$("$bin" licenses issue --tenant default --email buyer@example.com --plan pro 2>/dev/null)
log "issued a license on the primary; waiting for the replica to replay it"
sleep 1
echo "us-east-1: $(verify "$us_addr" buyer@example.com "$key")"
echo "eu-west-1: $(verify "$eu_addr" buyer@example.com "$key")"

log "pausing replay on the replica and issuing a second license"
psql "postgres://postgres@127.0.0.1:$replica_port/postgres" -qtAc "SELECT pg_wal_replay_pause()" >/dev/null
key2=$("$bin" licenses issue --tenant default --email late@example.com --plan pro 2>/dev/null)
sleep 2
echo "eu-west-1, replay paused: $(verify "$eu_addr" late@example.com "$key2")"
echo "eu-west-1 health: $(curl -s "http://$eu_addr/api/health")"
