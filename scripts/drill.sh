#!/usr/bin/env bash
# Runs a blue-green deploy and a rollback on this machine under a
# constant-rate load, without Docker, and fails unless every request of
# the load got a 2xx response.
#
#   1. builds blue from this tree, and green from a copy of it with one
#      extra expand migration;
#   2. creates a throwaway database and login role on the PostgreSQL at
#      DRILL_ADMIN_URL, migrates it and issues a license;
#   3. starts blue with 'licensing serve' and a real nginx in front of it,
#      both on free loopback ports, then starts cmd/drillload through nginx;
#   4. deploys green: starts it, waits for its /api/health, migrates,
#      switches nginx with scripts/nginx-switch.sh, then drains and stops
#      blue with SIGTERM and drops it from nginx's backup line;
#   5. rolls back the same way: starts blue, switches, drains green;
#   6. stops the load, prints its counts, and removes everything it made.
#
# Environment: DRILL_ADMIN_URL (TEST_DATABASE_URL or
# postgres://postgres@127.0.0.1:5432/postgres), a role that may create
# databases and roles; DRILL_RATE (50) requests per second; DRILL_DRAIN_DELAY
# (2s), the servers' DRAIN_DELAY.
set -euo pipefail

cd "$(dirname "$0")/.."
admin_url=${DRILL_ADMIN_URL:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
rate=${DRILL_RATE:-50}
drain_delay=${DRILL_DRAIN_DELAY:-2s}
settle=3 # seconds of load between steps

started=$(date +%s)
log() { echo "drill [$(($(date +%s) - started))s]: $*" >&2; }
fail() {
	log "FAILED: $*"
	exit 1
}

for tool in nginx psql envsubst curl go git; do
	command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install nginx postgresql-client gettext-base)"
done

work=$(mktemp -d /tmp/licensing-drill.XXXXXX)
chmod 755 "$work"
suffix=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
db=licensing_drill_$suffix
role=licensing_drill_$suffix
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
declare -A pids=()
load_pid=

cleanup() {
	local status=$?
	set +e
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
	for color in "${!pids[@]}"; do kill "${pids[$color]}" 2>/dev/null; done
	[ -f "$work/nginx/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx/nginx.pid")" 2>/dev/null
	wait 2>/dev/null
	psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	psql "$admin_url" -qc "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
	if [ "$status" = 0 ]; then
		rm -rf "$work"
	else
		log "logs kept in $work"
	fi
	exit "$status"
}
trap cleanup EXIT

# free_port prints a loopback TCP port that nothing listens on, outside the
# ports that other services on this machine use.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

build_colors() {
	log "building blue from this tree"
	CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=drill-blue" -o "$work/blue/licensing" ./cmd/licensing
	go build -o "$work/drillload" ./cmd/drillload

	log "building green from a copy with an extra expand migration"
	mkdir -p "$work/green-src"
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$work/green-src"
	cat >"$work/green-src/migrations/90000_drill_expand.sql" <<'SQL'
-- +goose NO TRANSACTION
-- +goose Up
-- Written by scripts/drill.sh: an expand-only change that blue's code must survive.
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS drill_note text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS licenses_drill_note_idx ON licenses (drill_note);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS licenses_drill_note_idx;
ALTER TABLE licenses DROP COLUMN IF EXISTS drill_note;
SQL
	(cd "$work/green-src" && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=drill-green" \
		-o "$work/green/licensing" ./cmd/licensing)
}

prepare_database() {
	log "creating database $db and login role $role"
	psql "$admin_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null
	local base=${admin_url%/*}
	export MIGRATION_DATABASE_URL="$base/$db?sslmode=disable"
	export DATABASE_URL="postgres://$role:$password@${base#*@}/$db?sslmode=disable"
	export LICENSE_KEY_SECRET=$password$password
	"$work/blue/licensing" migrate up >"$work/migrate-blue.log" 2>&1 || fail "blue migrate up: $(cat "$work/migrate-blue.log")"
	psql "$MIGRATION_DATABASE_URL" -v ON_ERROR_STOP=1 -qc \
		"CREATE ROLE $role LOGIN PASSWORD '$password' IN ROLE licensing_app" >/dev/null
	"$work/blue/licensing" licenses issue --tenant default --email drill@example.com --days 1 >"$work/key"
}

# start_color starts one color's server on its port in the background and
# waits up to 30 seconds for its /api/health.
start_color() {
	local color=$1 port=$2
	log "starting $color on 127.0.0.1:$port"
	# Both colors run on this host, so each takes a free metrics port.
	HTTP_ADDR=127.0.0.1:$port METRICS_ADDR=127.0.0.1:0 APP_REGION=drill DRAIN_DELAY=$drain_delay \
		"$work/$color/licensing" serve >>"$work/$color.log" 2>&1 &
	pids[$color]=$!
	for _ in $(seq 150); do
		if HTTP_ADDR=127.0.0.1:$port "$work/$color/licensing" healthcheck >/dev/null 2>&1; then
			log "$color is healthy"
			return
		fi
		kill -0 "${pids[$color]}" 2>/dev/null || fail "$color exited: $(tail -5 "$work/$color.log")"
		sleep 0.2
	done
	fail "$color did not become healthy within 30s"
}

# stop_color sends SIGTERM and waits for the drain and the shutdown.
stop_color() {
	local color=$1
	log "draining and stopping $color"
	kill -TERM "${pids[$color]}"
	wait "${pids[$color]}" || fail "$color exited with status $?: $(tail -5 "$work/$color.log")"
	unset "pids[$color]"
	log "$color stopped: $(grep -o '"msg":"server stopped".*' "$work/$color.log" | tail -1)"
}

start_nginx() {
	local port=$1
	mkdir -p "$work/nginx/conf.d" "$work/nginx/temp" "$work/nginx/logs"
	chmod 1777 "$work/nginx/temp"
	# The single quotes keep the names for envsubst to replace.
	# shellcheck disable=SC2016
	NGINX_LISTEN=127.0.0.1:$port NGINX_ACTIVE_CONF=$work/nginx/active.conf \
		envsubst '${NGINX_LISTEN} ${NGINX_ACTIVE_CONF}' \
		<deploy/nginx/templates/licensing.conf.template >"$work/nginx/conf.d/licensing.conf"
	cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $work/nginx/logs/access.log;
    client_body_temp_path $work/nginx/temp/body;
    proxy_temp_path $work/nginx/temp/proxy;
    fastcgi_temp_path $work/nginx/temp/fastcgi;
    uwsgi_temp_path $work/nginx/temp/uwsgi;
    scgi_temp_path $work/nginx/temp/scgi;
    include $work/nginx/conf.d/*.conf;
}
NGINX
	switch --write-only --alone blue
	log "starting nginx on 127.0.0.1:$port"
	nginx_cmd -t -q
	nginx_cmd
}

nginx_cmd() { nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" "$@"; }

switch() {
	ACTIVE_CONF=$work/nginx/active.conf BLUE_ADDR=127.0.0.1:$blue_port GREEN_ADDR=127.0.0.1:$green_port \
		NGINX_CMD="nginx -p $work/nginx -c $work/nginx/nginx.conf -e $work/nginx/logs/error.log" \
		scripts/nginx-switch.sh "$@"
}

# expect_version waits until /api/health through nginx reports version.
expect_version() {
	local want=$1
	for _ in $(seq 50); do
		if curl -fsS "http://127.0.0.1:$nginx_port/api/health" 2>/dev/null | grep -q "\"version\":\"$want\""; then
			log "nginx now serves $want"
			return
		fi
		sleep 0.1
	done
	fail "nginx does not serve $want 5s after the switch"
}

build_colors
prepare_database
blue_port=$(free_port)
green_port=$(free_port)
nginx_port=$(free_port)
start_color blue "$blue_port"
start_nginx "$nginx_port"
expect_version drill-blue

log "starting the load: $rate requests per second through nginx"
"$work/drillload" -url "http://127.0.0.1:$nginx_port" -rate "$rate" -max-duration 4m \
	-email drill@example.com -key-file "$work/key" >"$work/load.log" 2>&1 &
load_pid=$!
sleep "$settle"

log "deploy: green"
start_color green "$green_port"
"$work/green/licensing" migrate up >"$work/migrate-green.log" 2>&1 || fail "green migrate up: $(cat "$work/migrate-green.log")"
log "green migrated: $(tail -1 "$work/migrate-green.log")"
switch green
expect_version drill-green
sleep "$settle"
stop_color blue
switch --alone green
sleep "$settle"

log "rollback: blue"
start_color blue "$blue_port"
switch blue
expect_version drill-blue
sleep "$settle"
stop_color green
switch --alone blue
sleep "$settle"

log "stopping the load"
kill -INT "$load_pid"
load_status=0
wait "$load_pid" || load_status=$?
load_pid=
cat "$work/load.log"
[ "$load_status" = 0 ] || fail "some requests did not get a 2xx response; nginx log: $work/nginx/logs/error.log"
log "passed: every request got a 2xx across a deploy and a rollback with a migration in between"
