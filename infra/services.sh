#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Private PostgreSQL and RabbitMQ instances for Orchestrator's development and tests.
#
#   infra/services.sh up|down|status|env [postgres|rabbitmq ...]      (default: both)
#
#   up      install what is missing (apt-get), start what is not running, wait until it
#           accepts connections, then print shell-evalable connection strings on stdout
#           (progress goes to stderr), so `eval "$(infra/services.sh up)"` works.
#   down    stop what this script started; quiet and successful when nothing runs.
#   status  say what runs; exit 0 when every named service runs, 3 otherwise.
#   env     print the connection strings (same lines as `up`).
#   rabbitmqctl ARGS...   run rabbitmqctl against the private node, with the environment it
#           needs (user rabbitmq, private HOME/cookie and epmd port), e.g. `... rabbitmqctl list_users`.
#
# Why not Docker/Testcontainers: no Docker engine runs on the project's machines, so the
# services come from Debian's packages and run as private instances on their own ports,
# with their data under the repository's ignored `.data/` folder. They never touch the
# system instances the packages install (PostgreSQL on 5432, RabbitMQ on 5672/epmd 4369).
#
# Environment overrides:
#   ORCHESTRATOR_DATA_DIR        data folder (default: <repo>/.data, see resolve_data_dir)
#   ORCHESTRATOR_PG_PORT         PostgreSQL port            (default 54329)
#   ORCHESTRATOR_RABBIT_PORT     RabbitMQ AMQP port         (default 56729)
#   ORCHESTRATOR_RABBIT_DIST_PORT RabbitMQ Erlang dist port (default 56730)
#   ORCHESTRATOR_RABBIT_TLS_PORT RabbitMQ AMQPS port         (default 56731)
#   ORCHESTRATOR_EPMD_PORT       private epmd port          (default 54369)
#   ORCHESTRATOR_START_TIMEOUT   seconds to wait for a service to come up (default 90)
# A second checkout running at the same time needs other values for all four ports (the node
# name orchestrator@localhost only has to be unique per epmd).
#
# This file holds the settings and the commands; the work lives in infra/lib/: common.sh (what
# both services share), postgres.sh and rabbitmq.sh (one service each).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# The repository root is the folder above infra/; found from the script's own location so
# the script works from any working directory and in any clone.
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)

PG_PORT=${ORCHESTRATOR_PG_PORT:-54329}
RABBIT_PORT=${ORCHESTRATOR_RABBIT_PORT:-56729}
RABBIT_DIST_PORT=${ORCHESTRATOR_RABBIT_DIST_PORT:-56730}
RABBIT_TLS_PORT=${ORCHESTRATOR_RABBIT_TLS_PORT:-56731}
EPMD_PORT=${ORCHESTRATOR_EPMD_PORT:-54369}
START_TIMEOUT=${ORCHESTRATOR_START_TIMEOUT:-90}

PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin   # the upstream scripts, not Debian's /usr/sbin wrapper (which
                                   # forces /var/lib/rabbitmq and /var/log/rabbitmq)
RABBIT_NODE=orchestrator@localhost

APP_USER=orchestrator
APP_PASSWORD=orchestrator
APP_DB=orchestrator

# A caller's libpq settings must not redirect the script's own psql/pg_ctl calls.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGOPTIONS PGSERVICE PGDATA PGPASSFILE 2>/dev/null || true

# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"
# shellcheck source=lib/postgres.sh
source "$SCRIPT_DIR/lib/postgres.sh"
# shellcheck source=lib/rabbitmq.sh
source "$SCRIPT_DIR/lib/rabbitmq.sh"

set_paths() {
  resolve_data_dir
  TLS_DIR=$DATA_DIR/tls
  pg_paths
  rabbit_paths
}

# TLS beside the plain listeners: PostgreSQL takes SSL on its port, RabbitMQ listens for AMQPS on RABBIT_TLS_PORT, both
# with a server certificate for localhost and 127.0.0.1 from a development CA in <data>/tls/ca (infra/tls.sh; kept
# across runs while valid). Without openssl there are no TLS listeners, and `env` prints no TLS lines.
tls_prepare() {
  if ! command -v openssl >/dev/null; then
    log "tls: openssl is not installed (apt-get install openssl): PostgreSQL and RabbitMQ get no TLS listeners"
    return 0
  fi
  "$REPO/infra/tls.sh" host "$TLS_DIR/ca" "$TLS_DIR/services" localhost
}

tls_ready() { [[ -s ${TLS_DIR:-}/services/server-cert.pem && -s $TLS_DIR/services/server-key.pem ]]; }

# The connection strings over TLS, verifying the server against the development CA (once it exists).
print_tls_env() {
  [[ -n ${DATA_DIR:-} ]] || resolve_data_dir
  local ca=$DATA_DIR/tls/ca/ca-cert.pem s
  [[ -s $ca ]] || return 0
  echo "export ORCHESTRATOR_TLS_CA=\"$ca\""
  for s in "$@"; do
    case $s in
      postgres) echo "export ORCHESTRATOR_TLS_POSTGRES=\"Host=localhost;Port=$PG_PORT;Username=$APP_USER;Password=$APP_PASSWORD;Database=$APP_DB;SSL Mode=VerifyFull;Root Certificate=$ca\"" ;;
      rabbitmq) echo "export ORCHESTRATOR_TLS_RABBITMQ=\"amqps://$APP_USER:$APP_PASSWORD@localhost:$RABBIT_TLS_PORT/?cacertfile=$ca\"" ;;
    esac
  done
}

# ---------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------

print_env() {
  local s
  for s in "$@"; do
    case $s in
      # Plain, said so: the server offers TLS too (ORCHESTRATOR_TLS_POSTGRES), and Npgsql's default (SSL Mode=Prefer)
      # would encrypt every local connection, at a CPU cost on both ends that no plain-TCP figure should carry.
      postgres) echo "export ConnectionStrings__Postgres=\"Host=127.0.0.1;Port=$PG_PORT;Username=$APP_USER;Password=$APP_PASSWORD;Database=$APP_DB;SSL Mode=Disable\"" ;;
      rabbitmq) echo "export ConnectionStrings__RabbitMq=\"amqp://$APP_USER:$APP_PASSWORD@127.0.0.1:$RABBIT_PORT/\"" ;;
    esac
  done
  print_tls_env "$@"
}

usage() {
  echo "usage: $0 up|down|status|env [postgres|rabbitmq ...]   |   $0 rabbitmqctl ARGS..." >&2
  exit 2
}

main() {
  local cmd=${1:-}; shift || true
  if [[ $cmd == rabbitmqctl ]]; then
    require_root; set_paths; rabbit_env
    [[ -d $RMQ_DIR ]] || die "rabbitmq: no data folder $RMQ_DIR (run: $0 up rabbitmq)"
    as_rabbit "$RABBIT_BIN/rabbitmqctl" -n "$RABBIT_NODE" "$@"
    return
  fi
  local services=("$@") s
  (( ${#services[@]} )) || services=(postgres rabbitmq)
  for s in "${services[@]}"; do
    [[ $s == postgres || $s == rabbitmq ]] || usage
  done
  case $cmd in
    env) print_env "${services[@]}"; return 0 ;;
    up|down|status) ;;
    *) usage ;;
  esac

  require_root
  set_paths
  rabbit_env
  case $cmd in
    up)
      ensure_installed "${services[@]}"
      ensure_data_root
      take_lock
      log "data: $DATA_DIR"
      tls_prepare
      for s in "${services[@]}"; do
        case $s in postgres) pg_up ;; rabbitmq) rabbit_up ;; esac
      done
      print_env "${services[@]}"
      ;;
    down)
      [[ -d $DATA_DIR ]] || return 0
      take_lock
      for s in "${services[@]}"; do
        case $s in postgres) pg_down ;; rabbitmq) rabbit_down ;; esac
      done
      ;;
    status)
      local rc=0
      for s in "${services[@]}"; do
        case $s in postgres) pg_status || rc=3 ;; rabbitmq) rabbit_status || rc=3 ;; esac
      done
      return "$rc"
      ;;
  esac
}

main "$@"
