#!/usr/bin/env bash
# Deploys VERSION of the licensing image to one region's compose stack
# without dropping a request. It starts the idle color on the new image,
# waits for its /api/health, migrates and switches nginx to it. After
# watching the new color, it drains the old one and keeps its container
# for scripts/rollback.sh. A failed step before the switch leaves the old
# color serving, and a failed watch switches back to it.
#
# Usage: scripts/deploy-blue-green.sh REGION VERSION
#   REGION   us-east-1 or eu-west-1 (docker-compose.REGION.yml, .env.REGION)
#   VERSION  image tag, such as v1.4.0
# See scripts/deploy-lib.sh for the environment.
set -euo pipefail

region=${1:?usage: deploy-blue-green.sh REGION VERSION}
version=${2:?usage: deploy-blue-green.sh REGION VERSION}
# shellcheck source=scripts/deploy-lib.sh
. "$(dirname "$0")/deploy-lib.sh"

active=$(state_get ACTIVE_COLOR)
if [ -z "$active" ]; then
	# The server refuses to start on an unmigrated database, so the first
	# deploy migrates and creates the server's role before blue starts.
	log "first deploy: migrating, then starting blue on $version"
	state_set BLUE_TAG "$version"
	compose run --rm blue migrate up || fail "migrate up failed"
	if [ "$region" = us-east-1 ]; then
		create_app_role || fail "creating the database role 'licensing' failed"
	fi
	compose up -d blue
	wait_healthy blue || fail "blue did not become healthy within ${health_timeout}s"
	scripts/nginx-switch.sh --write-only --alone blue
	compose up -d nginx
	state_set ACTIVE_COLOR blue
	log "blue serves $version"
	exit 0
fi

idle=$(other_color "$active")
idle_tag=$(tag_name "$idle")
previous_tag=$(state_get "$idle_tag")
log "deploying $version to $idle; $active keeps serving $(state_get "$(tag_name "$active")")"

# abort stops the idle color and puts its previous tag back, leaving the
# active color as it was.
abort() {
	log "stopping $idle; $active is still serving"
	compose stop --timeout 30 "$idle" || true
	state_set "$idle_tag" "$previous_tag"
	fail "$1"
}

state_set "$idle_tag" "$version"
compose pull "$idle" || abort "pulling $version failed"
compose up -d --no-deps --force-recreate "$idle" || abort "starting $idle failed"
wait_healthy "$idle" || abort "$idle did not become healthy within ${health_timeout}s"
log "migrating with $version"
compose run --rm --no-deps "$idle" migrate up || abort "migrate up failed"

switch_to "$idle" || abort "switching nginx to $idle failed"
if ! watch_traffic "$idle"; then
	log "switching back to $active"
	switch_to "$active" || fail "switching back to $active failed; check nginx now"
	abort "$idle failed while serving"
fi

drain "$active"
state_set ACTIVE_COLOR "$idle"
log "done: $idle serves $version; scripts/rollback.sh $region returns to $active"
