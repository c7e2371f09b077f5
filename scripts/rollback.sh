#!/usr/bin/env bash
# Returns one region to the color that served before the last deploy: it
# starts that color's kept container on its previous image, waits for its
# /api/health, switches nginx back and drains the current color. It runs
# no migration: the expand-only rule (docs/migrations.md) keeps the schema
# compatible with the previous release.
#
# Usage: scripts/rollback.sh REGION
# See scripts/deploy-lib.sh for the environment.
set -euo pipefail

region=${1:?usage: rollback.sh REGION}
# shellcheck source=scripts/deploy-lib.sh
. "$(dirname "$0")/deploy-lib.sh"

active=$(state_get ACTIVE_COLOR)
[ -n "$active" ] || fail "nothing to roll back: $state names no active color"
previous=$(other_color "$active")
tag=$(state_get "$(tag_name "$previous")")
[ -n "$tag" ] || fail "$previous has never run in $region"

log "rolling back from $active to $previous ($tag)"
compose up -d --no-deps "$previous" || fail "starting $previous failed; $active is still serving"
if ! wait_healthy "$previous"; then
	compose stop --timeout 30 "$previous" || true
	fail "$previous did not become healthy within ${health_timeout}s; $active is still serving"
fi
switch_to "$previous" || fail "switching nginx to $previous failed; $active is still serving"
drain "$active"
state_set ACTIVE_COLOR "$previous"
log "done: $previous serves $tag"
