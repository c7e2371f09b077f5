#!/usr/bin/env bash
# Runs the server on a local database for development: prepares the
# database and its roles, migrates, issues a demo license in tenant 'demo',
# prints curl commands that verify it, then serves on HTTP_ADDR (:3000).
set -euo pipefail

cd "$(dirname "$0")/.."
bin=./bin/licensing

scripts/dev-db.sh
set -a
# shellcheck disable=SC1091
. .dev/env
set +a

"$bin" migrate up >&2
scripts/dev-role.sh

if ! "$bin" tenants list | awk 'NR > 1 { print $1 }' | grep -qx demo; then
	"$bin" tenants create demo --name "Demo tenant" >&2
fi
key=$("$bin" licenses issue --tenant demo --email demo@example.com --plan pro --days 365 2>/dev/null)
port=${HTTP_ADDR:-:3000}
port=${port##*:}

cat >&2 <<MSG

Demo license issued in tenant 'demo' for demo@example.com.
Verify it (answers "valid": true):

  curl -s -X POST http://127.0.0.1:$port/api/verify-license -H 'Content-Type: application/json' -H 'X-Tenant-ID: demo' -d '{"email": "demo@example.com", "licenseKey": "$key"}'

The same key in another tenant (answers "code": "NOT_FOUND"):

  curl -s -X POST http://127.0.0.1:$port/api/verify-license -H 'Content-Type: application/json' -H 'X-Tenant-ID: default' -d '{"email": "demo@example.com", "licenseKey": "$key"}'

MSG
exec "$bin" serve
