#!/bin/sh
# Runs once, when the TimescaleDB volume is first initialised (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d): a login role that can only read the read models, for Grafana.
# Tables, views and aggregates the app creates later in `readmodel` are readable by it too
# (default privileges of the app's role). On an existing volume, run the same SQL by hand.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader="${GRAFANA_DB_USER:-grafana}" -v password="${GRAFANA_DB_PASSWORD:-grafana}" <<'SQL'
create role :"reader" login password :'password';
create schema if not exists readmodel;
grant usage on schema readmodel to :"reader";
grant select on all tables in schema readmodel to :"reader";
alter default privileges in schema readmodel grant select on tables to :"reader";
SQL
