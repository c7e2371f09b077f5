#!/usr/bin/env bash
# Creates the server's login role 'licensing', a member of licensing_app, in
# the database that scripts/dev-db.sh prepared. It runs after the first
# migration, which creates licensing_app.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .dev/env

psql "$MIGRATION_DATABASE_URL" -q -v ON_ERROR_STOP=1 -v password="$DEV_DB_PASSWORD" <<'SQL'
SET client_min_messages = warning;
SELECT 'CREATE ROLE licensing LOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'licensing')
\gexec
-- Another checkout may have created the role with its own password.
SELECT format('ALTER ROLE licensing LOGIN PASSWORD %L', :'password')
\gexec
GRANT licensing_app TO licensing;
SQL
