#!/usr/bin/env bash
# PostgreSQL for the store tests: install Debian's server, start a cluster, create a role and a
# database, and hand the tests their URL through $CI_ENV_FILE. Safe to run twice.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  $SUDO pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  $SUDO pg_ctlcluster "$version" main start
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"

ROLE=captchalab_test
DB=captchalab_test
PASSWORD=captchalab_test
AS_POSTGRES="sudo -u postgres"
if [ "$(id -u)" = 0 ]; then AS_POSTGRES="runuser -u postgres --"; fi
psql_admin() { $AS_POSTGRES psql -v ON_ERROR_STOP=1 -p "$port" -qAt "$@"; }
for _ in $(seq 30); do psql_admin -c "select 1" >/dev/null 2>&1 && break; sleep 1; done
if [ "$(psql_admin -c "select 1 from pg_roles where rolname = '$ROLE'")" != 1 ]; then
  psql_admin -c "create role $ROLE login password '$PASSWORD'"
fi
if [ "$(psql_admin -c "select 1 from pg_database where datname = '$DB'")" != 1 ]; then
  psql_admin -c "create database $DB owner $ROLE"
fi
URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$port/$DB"
PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DB" -qAt -c "select 1" >/dev/null
if [ -n "${CI_ENV_FILE:-}" ]; then
  echo "CAPTCHALAB_TEST_DATABASE_URL=$URL" >>"$CI_ENV_FILE"
fi
echo "PostgreSQL $version on port $port: CAPTCHALAB_TEST_DATABASE_URL=$URL"
