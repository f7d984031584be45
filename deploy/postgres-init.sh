#!/bin/sh
# Runs once, when the Postgres container first creates its data directory. The application
# and the worker log in as registry_web, a member of registry_app: that role may read and
# write the registry but neither change the schema nor UPDATE or DELETE audit events
# (migration 0002 grants it exactly that). Migrations run as the owner, POSTGRES_USER.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE registry_app NOLOGIN;
CREATE ROLE registry_web LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD :'app_password';
GRANT registry_app TO registry_web;
SQL
