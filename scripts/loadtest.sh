#!/usr/bin/env bash
# Drives a running server, by default the one 'make run' serves on
# 127.0.0.1:3000, with the verify-license mix of cmd/loadtest. The first run
# seeds 20 tenants (load-1 to load-20) with 50 licenses each through
# bin/licensing, using the settings 'make run' wrote to .dev/env, and keeps
# their keys in .dev/loadtest-keys.csv for later runs; delete that file to
# seed again. Extra arguments go to cmd/loadtest, such as --rate 500
# --duration 30s.
set -euo pipefail

cd "$(dirname "$0")/.."
if [ -f .dev/env ]; then
	set -a
	# shellcheck disable=SC1091
	. .dev/env
	set +a
fi
go build -o bin/loadtest ./cmd/loadtest
exec bin/loadtest --seed-with bin/licensing "$@"
