# shellcheck shell=bash disable=SC2154
# Functions shared by scripts/deploy-blue-green.sh and scripts/rollback.sh;
# source it after setting region. Every step logs, and fail stops the
# script, which then leaves the active color serving.
#
# Environment:
#   LICENSING_IMAGE  image repository (ghcr.io/rescuepc/licensing)
#   HEALTH_TIMEOUT   seconds to wait for a new color's /api/health (120)
#   WATCH_SECONDS    seconds to watch the switched traffic for errors (60)
#   LB_URL           the region's nginx as seen from this host (http://127.0.0.1:80)

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
state=deploy/state/$region.env
compose_file=docker-compose.$region.yml
health_timeout=${HEALTH_TIMEOUT:-120}
watch_seconds=${WATCH_SECONDS:-60}
lb_url=${LB_URL:-http://127.0.0.1:80}

log() { echo "$(date -u +%FT%TZ) ${0##*/} [$region]: $*" >&2; }
fail() {
	log "FAILED: $*"
	exit 1
}

[ -f "$compose_file" ] || fail "no $compose_file; use us-east-1 or eu-west-1"
[ -f ".env.$region" ] || fail "no .env.$region; copy .env.example and fill in the secrets"
mkdir -p deploy/state deploy/nginx/active
touch "$state"

compose() {
	docker compose --env-file ".env.$region" --env-file "$state" -f "$compose_file" "$@"
}

# state_get NAME prints a value of the state file, empty when unset.
state_get() { sed -n "s/^$1=//p" "$state" | tail -1; }

# state_set NAME VALUE replaces a value of the state file.
state_set() {
	grep -v "^$1=" "$state" >"$state.new" || true
	echo "$1=$2" >>"$state.new"
	mv "$state.new" "$state"
}

# tag_name COLOR prints the state variable of the color's image tag.
tag_name() { echo "${1^^}_TAG"; }

other_color() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }

# wait_healthy COLOR waits until the color's own healthcheck passes.
wait_healthy() {
	local color=$1 deadline=$((SECONDS + health_timeout))
	log "waiting up to ${health_timeout}s for $color's /api/health"
	until compose exec -T "$color" /usr/local/bin/licensing healthcheck >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 2
	done
	log "$color is healthy"
}

# switch_to COLOR [--alone] points nginx at the color.
switch_to() {
	local color=$1
	shift
	ACTIVE_CONF=deploy/nginx/active/active.conf BLUE_ADDR=blue:3000 GREEN_ADDR=green:3000 \
		NGINX_CMD="docker compose --env-file .env.$region --env-file $state -f $compose_file exec -T nginx nginx" \
		scripts/nginx-switch.sh "$@" "$color"
}

# watch_traffic probes the load balancer's /api/health every two seconds
# for WATCH_SECONDS, then counts the new color's logged errors. It fails
# on any failed probe or logged error.
watch_traffic() {
	local color=$1 since deadline=$((SECONDS + watch_seconds)) errors
	since=$(date -u +%FT%TZ)
	log "watching $color for ${watch_seconds}s"
	while [ "$SECONDS" -lt "$deadline" ]; do
		curl -fsS --max-time 3 "$lb_url/api/health" >/dev/null || return 1
		sleep 2
	done
	errors=$(compose logs --no-log-prefix --since "$since" "$color" 2>/dev/null | grep -c '"level":"ERROR"' || true)
	[ "$errors" = 0 ] || {
		log "$color logged $errors errors"
		return 1
	}
	log "$color served ${watch_seconds}s without errors"
}

# create_app_role creates the server's login role 'licensing' on the
# primary, a member of licensing_app, or sets its password when it exists.
create_app_role() {
	log "creating or updating the database role 'licensing'"
	# The password goes on standard input, not the command line that ps shows.
	{
		printf '\\set password %s\n' "$(sed -n 's/^LICENSING_DB_PASSWORD=//p' ".env.$region")"
		cat <<'SQL'
SELECT 'CREATE ROLE licensing LOGIN IN ROLE licensing_app'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'licensing')
\gexec
SELECT format('ALTER ROLE licensing LOGIN PASSWORD %L', :'password')
\gexec
SQL
	} | compose exec -T postgres psql -v ON_ERROR_STOP=1 -U postgres -d licensing
}

# drain COLOR stops the color with SIGTERM, which drains it first, and
# keeps its container for a rollback.
drain() {
	log "draining and stopping $1"
	compose stop --timeout 30 "$1"
	switch_to "$(other_color "$1")" --alone
}
