#!/usr/bin/env bash
# Runs once, when the postgres image initializes an empty primary: creates
# the role that the eu-west-1 replica streams as, and lets it connect for
# replication with a password.
set -euo pipefail
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD in .env.us-east-1}"

psql -v ON_ERROR_STOP=1 -v password="$REPLICATION_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD %L', :'password')
\gexec
SQL
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
