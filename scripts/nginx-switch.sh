#!/usr/bin/env bash
# Points nginx at one color: writes the include file that names the active
# upstream, checks the whole configuration, and reloads nginx, whose old
# workers finish their requests while new ones use the new file. When the
# check or the reload fails, the previous file is put back.
#
# Usage: scripts/nginx-switch.sh [--write-only] [--alone] blue|green
# --write-only writes the file without nginx, before nginx first starts.
# --alone leaves out the other color, for when it no longer runs: nginx
# resolves upstream names when it loads its configuration, so a stopped
# container's name would make nginx -t fail.
#
# Environment:
#   ACTIVE_CONF        the include file to write (deploy/nginx/active/active.conf)
#   BLUE_ADDR          host:port of the blue color (blue:3000)
#   GREEN_ADDR         host:port of the green color (green:3000)
#   NGINX_CMD          how to run nginx for -t and -s reload, such as
#                      "docker compose -f docker-compose.us-east-1.yml exec -T nginx nginx"
set -euo pipefail

cd "$(dirname "$0")/.."
log() { echo "nginx-switch: $*" >&2; }

write_only=false alone=false
while [ $# -gt 1 ]; do
	case $1 in
	--write-only) write_only=true ;;
	--alone) alone=true ;;
	*) break ;;
	esac
	shift
done
color=${1:-}
active_conf=${ACTIVE_CONF:-deploy/nginx/active/active.conf}
blue=${BLUE_ADDR:-blue:3000}
green=${GREEN_ADDR:-green:3000}
read -r -a nginx <<<"${NGINX_CMD:-nginx}"

case $color in
blue) active=$blue standby=$green ;;
green) active=$green standby=$blue ;;
*)
	log "usage: nginx-switch.sh [--write-only] [--alone] blue|green"
	exit 2
	;;
esac

mkdir -p "$(dirname "$active_conf")"
previous=$active_conf.previous
[ -f "$active_conf" ] && cp "$active_conf" "$previous"
# The single quotes keep the names for envsubst to replace.
# shellcheck disable=SC2016
ACTIVE_ADDR=$active STANDBY_ADDR=$standby envsubst '${ACTIVE_ADDR} ${STANDBY_ADDR}' \
	<deploy/nginx/templates/active.conf.template >"$active_conf.new"
if $alone; then
	sed -i '/^server .* backup /d' "$active_conf.new"
	standby=none
fi
mv "$active_conf.new" "$active_conf"
if $write_only; then
	rm -f "$previous"
	log "wrote $active_conf: $color ($active) active, backup $standby"
	exit 0
fi

restore() {
	log "$1; restoring the previous active color"
	if [ -f "$previous" ]; then
		mv "$previous" "$active_conf"
	fi
	exit 1
}
"${nginx[@]}" -t -q || restore "nginx -t rejected the configuration"
"${nginx[@]}" -s reload || restore "nginx -s reload failed"
rm -f "$previous"
log "switched to $color ($active), backup $standby"
