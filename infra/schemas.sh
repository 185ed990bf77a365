#!/usr/bin/env bash
# The PostgreSQL schemas test runs make, on the database of ConnectionStrings__Postgres (as `infra/services.sh env`
# prints it). Each is named t_<prefix>_<run>_<random> (tests/TestSupport/TestSchema.cs) and dropped by the test class
# that made it; these commands find what a killed or crashed run left behind.
#
#   infra/schemas.sh sweep      drop the schemas of every run none of whose test processes lives; names them on stderr
#   infra/schemas.sh left RUN   print the schemas run RUN (8 hex digits) still has, one a line
#
# Why sweeping is safe while other checkouts run tests on the same database: every test process holds a shared
# advisory lock on its run's key for as long as it lives (TestSchema.LockClass, the run's key). The sweep takes that
# lock exclusively, which it only gets when no process of the run is alive, and holds it until its drops are done (a
# process of that run starting meanwhile waits, then names new schemas). Schemas named otherwise (an older checkout's
# t_<prefix>_<guid>) are never touched. A child process a killed test started (an `orchestrator serve`) holds no lock:
# it is an orphan, and its schema goes with the rest.
set -euo pipefail

# TestSchema.LockClass ("tsch").
lock_class=1953719144
# t_<prefix>_<run>_<random>: the run is the second group.
pattern='^t_[a-z0-9]+_([0-9a-f]{8})_[0-9a-f]{16}$'

# libpq's settings from the Npgsql connection string (Host=…;Port=…;Username=…;Password=…;Database=…).
connect_from_npgsql() {
  local parts part key value
  IFS=';' read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    key=${part%%=*} value=${part#*=}
    case ${key,,} in
      host|server) export PGHOST=$value ;;
      port) export PGPORT=$value ;;
      username|user|"user id") export PGUSER=$value ;;
      password) export PGPASSWORD=$value ;;
      database) export PGDATABASE=$value ;;
    esac
  done
}

sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

[[ -n ${ConnectionStrings__Postgres:-} ]] || { echo "ConnectionStrings__Postgres is not set: eval \"\$(infra/services.sh env)\" first" >&2; exit 2; }
connect_from_npgsql "$ConnectionStrings__Postgres"

case ${1:-} in
  sweep)
    # One session: the locks taken in the first statement hold until the drops below are done (psql exits).
    dropped=$(sql <<EOF
set lock_timeout = '30s';
set client_min_messages = warning;
create temp table stale as
  with runs as materialized (
    select distinct substring(nspname from '$pattern') as run from pg_namespace where nspname ~ '$pattern'),
  free as materialized (
    select run from runs where pg_try_advisory_lock($lock_class, ('x' || run)::bit(32)::int))
  select n.nspname from pg_namespace n join free on substring(n.nspname from '$pattern') = free.run;
select nspname from stale order by 1;
select format('drop schema if exists %I cascade', nspname) from stale order by 1 \gexec
EOF
    )
    if [[ -n $dropped ]]; then
      echo "[schemas] dropped $(wc -l <<<"$dropped") schema(s) of test runs that are gone: ${dropped//$'\n'/ }" >&2
    fi
    ;;
  left)
    [[ ${2:-} =~ ^[0-9a-f]{8}$ ]] || { echo "usage: $0 left RUN (8 hex digits)" >&2; exit 2; }
    sql -c "select nspname from pg_namespace where substring(nspname from '$pattern') = '$2' order by 1"
    ;;
  *)
    echo "usage: $0 sweep | left RUN" >&2; exit 2 ;;
esac
