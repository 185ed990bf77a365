#!/usr/bin/env bash
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
#   ORCHESTRATOR_EPMD_PORT       private epmd port          (default 54369)
#   ORCHESTRATOR_START_TIMEOUT   seconds to wait for a service to come up (default 90)
# A second checkout running at the same time needs other values for all four ports (the node
# name orchestrator@localhost only has to be unique per epmd).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# The repository root is the folder above infra/; found from the script's own location so
# the script works from any working directory and in any clone.
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)

PG_PORT=${ORCHESTRATOR_PG_PORT:-54329}
RABBIT_PORT=${ORCHESTRATOR_RABBIT_PORT:-56729}
RABBIT_DIST_PORT=${ORCHESTRATOR_RABBIT_DIST_PORT:-56730}
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

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------

# True when every existing directory from / down to $1 has the "others may traverse" bit.
# The services run as the `postgres` / `rabbitmq` users, which are "others" for a root-owned
# checkout; a single 0700 ancestor (e.g. a `mktemp -d` folder) locks them out.
# Deliberately conservative: group membership and ACLs are ignored.
traversable_by_others() {
  local p=$1 mode
  while [[ ! -e $p ]]; do p=$(dirname "$p"); done
  while :; do
    mode=$(stat -Lc %a "$p")
    (( (8#$mode & 1) == 1 )) || return 1
    [[ $p == / ]] && return 0
    p=$(dirname "$p")
  done
}

# Where the data lives. Default <repo>/.data (ignored by git). Fallback when the service
# users cannot reach the repository (some ancestor is not o+x, typically a 0700 mktemp -d
# folder) or when the path is too long for a PostgreSQL unix socket (108 bytes):
# /var/tmp/orchestrator-<hash of repo path>. We deliberately do NOT chmod the user's
# ancestors: widening a private folder's permissions is a security decision that is not
# ours to make, and a fixed per-repo folder under /var/tmp (1777, survives reboots) is just
# as reproducible. An explicit ORCHESTRATOR_DATA_DIR is used as given or refused.
resolve_data_dir() {
  local socket_suffix="/postgres/run/.s.PGSQL.$PG_PORT"
  if [[ -n ${ORCHESTRATOR_DATA_DIR:-} ]]; then
    DATA_DIR=$(realpath -m -- "$ORCHESTRATOR_DATA_DIR")
    traversable_by_others "$DATA_DIR" ||
      die "ORCHESTRATOR_DATA_DIR=$DATA_DIR: an ancestor folder is not traversable by others (o+x); the postgres/rabbitmq users could not reach it"
    (( ${#DATA_DIR} + ${#socket_suffix} < 108 )) ||
      die "ORCHESTRATOR_DATA_DIR=$DATA_DIR is too long for a PostgreSQL unix socket path"
    return
  fi
  DATA_DIR=$REPO/.data
  if ! traversable_by_others "$REPO" || (( ${#DATA_DIR} + ${#socket_suffix} >= 108 )); then
    DATA_DIR=/var/tmp/orchestrator-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)
  fi
}

set_paths() {
  resolve_data_dir
  PG_DIR=$DATA_DIR/postgres            # owned by postgres, 0700
  PG_DATA=$PG_DIR/data                 # the cluster (PGDATA)
  PG_RUN=$PG_DIR/run                   # unix socket + lock file (not /var/run/postgresql)
  PG_LOG=$PG_DIR/postgres.log
  RMQ_DIR=$DATA_DIR/rabbitmq           # owned by rabbitmq, 0750
  RMQ_HOME=$RMQ_DIR/home               # HOME of server AND rabbitmqctl: same .erlang.cookie
  RMQ_MNESIA=$RMQ_DIR/mnesia
  RMQ_LOGDIR=$RMQ_DIR/log
  RMQ_PIDFILE=$RMQ_DIR/$RABBIT_NODE.pid
  RMQ_STARTUP_LOG=$RMQ_LOGDIR/startup.log
}

# Creates the data root: root-owned 0755 so both service users can traverse it.
ensure_data_root() {
  mkdir -p "$DATA_DIR"
  chmod 0755 "$DATA_DIR"
}

# ---------------------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------------------

require_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (the services run as the postgres/rabbitmq users via runuser)"
}

# Runs a command as a service user with a clean, explicit environment (a caller's
# RABBITMQ_*/PG*/ERL_* variables must not leak in) from a folder that user can read:
# Erlang and pg_ctl dislike a working directory they cannot access (e.g. /root).
as_user() {
  local user=$1 dir=$2; shift 2
  (cd "$dir" && runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 "$@")
}

# TCP probe without external tools; succeeds when something accepts on 127.0.0.1:$1.
tcp_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when /proc/$1 is a live process whose executable is $2 (guards against a stale pid
# file whose pid was reused by an unrelated process after a crash or reboot).
pid_is() {
  local pid=$1 exe=$2
  [[ $pid =~ ^[0-9]+$ ]] && [[ -d /proc/$pid ]] && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$exe" ]]
}

tail_log() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf '%s\n' "----- last lines of $f -----" >&2
    tail -n 40 "$f" >&2
  done
}

# Installs the Debian packages of the requested services when missing. `apt-get update`
# runs once and only when something has to be installed. The lock timeout makes us wait for
# another apt/dpkg run (e.g. a provisioning script in the background) instead of failing.
ensure_installed() {
  local pkgs=() s
  for s in "$@"; do
    case $s in
      postgres) [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/psql ]] || pkgs+=(postgresql) ;;
      rabbitmq) [[ -x $RABBIT_BIN/rabbitmq-server && -x $RABBIT_BIN/rabbitmqctl ]] || pkgs+=(rabbitmq-server) ;;
    esac
  done
  (( ${#pkgs[@]} )) || return 0
  log "installing ${pkgs[*]} (apt-get)"
  local apt=(apt-get -o DPkg::Lock::Timeout=900 -q)
  "${apt[@]}" update >&2
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "${pkgs[@]}" >&2
}

# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------

as_pg() { as_user postgres "$PG_DIR" "$@"; }

pg_psql_admin() {   # superuser psql over the private unix socket (peer auth)
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_pid() { [[ -f $PG_DATA/postmaster.pid ]] && head -n1 "$PG_DATA/postmaster.pid" || true; }

# Our postmaster is alive: the pid file names a live postgres process that runs in our data
# folder (a postmaster chdirs into PGDATA), not a reused pid nor another checkout's cluster.
pg_alive() {
  local pid; pid=$(pg_pid)
  pid_is "$pid" "$PG_BIN/postgres" && [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$PG_DATA" ]]
}

# Processes still working in our data folder: backends orphaned by a killed postmaster.
pg_leftovers() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/cwd" 2>/dev/null) == "$PG_DATA" ]] && echo "${p#/proc/}"
  done
  return 0
}

# The server accepts TCP connections. pg_isready names a user that exists (orchestrator, or
# postgres before provisioning) and a password-protected route: it hangs up at the password
# prompt, so the server log does not fill with 'role "root" does not exist' lines.
pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2 &&
    [[ -S $PG_RUN/.s.PGSQL.$PG_PORT ]]
}

# Creates the cluster once. initdb writes into a temporary folder that is renamed at the
# end, so a killed initdb never leaves a half-initialized cluster under the real name.
pg_init() {
  install -d -o postgres -g postgres -m 0700 "$PG_DIR" "$PG_RUN"
  if [[ -f $PG_DATA/PG_VERSION && -f $PG_DATA/global/pg_control ]]; then return 0; fi
  if [[ -e $PG_DATA ]]; then
    log "postgres: removing incomplete cluster $PG_DATA"
    rm -rf "$PG_DATA"
  fi
  rm -rf "$PG_DATA.tmp"
  log "postgres: initdb $PG_DATA"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA.tmp" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 ||
    { tail_log "$PG_DIR/initdb.log"; die "postgres: initdb failed"; }
  # Our settings live in a file of their own, rewritten on every `up` (pg_configure).
  echo "include_if_exists = 'orchestrator.conf'" >>"$PG_DATA.tmp/postgresql.conf"
  mv "$PG_DATA.tmp" "$PG_DATA"
}

# Writes the settings and the authentication rules (every `up`, so edits here apply to
# existing clusters at their next start).
pg_configure() {
  as_pg tee "$PG_DATA/orchestrator.conf" >/dev/null <<EOF
# Written by infra/services.sh on every 'up'; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
password_encryption = 'scram-sha-256'
EOF
  as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by infra/services.sh. Superuser only over the private unix socket (peer);
# everybody over loopback TCP with a password (Npgsql handles SCRAM).
local   all   all                     peer
host    all   all   127.0.0.1/32      scram-sha-256
EOF
}

# Removes what a killed postmaster leaves behind: orphaned backends (they exit by themselves
# shortly after the postmaster dies; a new postmaster must not share the data with them), a
# pid file pointing at a dead (or reused) pid, the socket and its lock file.
# Only called when our postmaster is known not to run.
pg_clean_stale() {
  local pids deadline=$((SECONDS + 10))
  while pids=$(pg_leftovers); [[ -n $pids ]]; do
    if (( SECONDS >= deadline )); then
      log "postgres: killing leftover processes of a dead postmaster: $(echo $pids)"
      kill -KILL $pids 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  if [[ -f $PG_DATA/postmaster.pid ]]; then
    log "postgres: removing stale postmaster.pid (pid $(pg_pid))"
    rm -f "$PG_DATA/postmaster.pid"
  fi
  rm -f "$PG_RUN"/.s.PGSQL.*
}

pg_start() {
  if tcp_open "$PG_PORT"; then
    die "postgres: port 127.0.0.1:$PG_PORT is taken by another process (another checkout's instance? see: ss -ltnp 'sport = :$PG_PORT'); set ORCHESTRATOR_PG_PORT"
  fi
  log "postgres: starting on 127.0.0.1:$PG_PORT"
  # setsid: the postmaster must not belong to the caller's session/process group, or the
  # end of a CI step or terminal would take it down.
  : >"$PG_LOG"; chown postgres:postgres "$PG_LOG"
  if ! setsid -w runuser -u postgres -- env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 \
      sh -c 'cd "$1" && exec "$2/pg_ctl" -D "$3" -l "$4" -w -t "$5" start' sh \
      "$PG_DIR" "$PG_BIN" "$PG_DATA" "$PG_LOG" "$START_TIMEOUT" </dev/null >/dev/null 2>&1 9>&- || ! pg_ready; then
    tail_log "$PG_LOG"
    die "postgres: did not come up within ${START_TIMEOUT}s"
  fi
}

# Role and database, idempotent; cheap enough (~50 ms) to run on every `up`.
pg_provision() {
  pg_psql_admin <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_USER') THEN
    CREATE ROLE $APP_USER LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
  ELSE
    ALTER ROLE $APP_USER LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $APP_DB OWNER $APP_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$APP_DB') \gexec
EOF
}

pg_up() {
  if pg_alive && pg_ready; then
    log "postgres: already running (pid $(pg_pid))"
  else
    if pg_alive; then
      # Alive but not answering: still starting (a concurrent `up`) or wedged. Give it
      # the start deadline, then fail instead of starting a second postmaster.
      local deadline=$((SECONDS + START_TIMEOUT))
      until pg_ready; do
        (( SECONDS < deadline )) || { tail_log "$PG_LOG"; die "postgres: pid $(pg_pid) runs but does not accept connections"; }
        sleep 0.2
      done
    else
      pg_init
      pg_clean_stale
      pg_configure
      pg_start
    fi
  fi
  pg_provision
}

pg_down() {
  [[ -d $PG_DATA ]] || return 0
  if pg_alive; then
    log "postgres: stopping (pid $(pg_pid))"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
  fi
  pg_clean_stale 2>/dev/null
}

pg_status() {
  if pg_alive && pg_ready; then
    echo "postgres: running (pid $(pg_pid)) on 127.0.0.1:$PG_PORT, data $PG_DATA, log $PG_LOG"
  elif pg_alive; then
    echo "postgres: process $(pg_pid) alive but not accepting connections, log $PG_LOG"; return 3
  else
    echo "postgres: stopped (data ${PG_DATA})"; return 3
  fi
}

# ---------------------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------------------

# The whole environment of the private node; the same for the server and rabbitmqctl.
#  - ERL_EPMD_PORT: a private epmd, so the node never registers with (or collides with) the
#    system node's epmd on 4369; rabbitmqctl must use the same port to find the node.
#  - HOME: the Erlang cookie lives in $HOME/.erlang.cookie. Server and rabbitmqctl both run as
#    user rabbitmq with this HOME, so their cookies match by construction.
#  - RABBITMQ_CONF_ENV_FILE: our own (empty) file instead of /etc/rabbitmq/rabbitmq-env.conf.
#  - inet_dist_use_interface: bind the distribution listeners to loopback too.
rabbit_env() {
  RMQ_ENV=(
    HOME="$RMQ_HOME"
    ERL_EPMD_PORT="$EPMD_PORT"
    ERL_EPMD_ADDRESS=127.0.0.1
    RABBITMQ_NODENAME="$RABBIT_NODE"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$RABBIT_PORT"
    RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
    RABBITMQ_MNESIA_BASE="$RMQ_MNESIA"
    RABBITMQ_LOG_BASE="$RMQ_LOGDIR"
    RABBITMQ_PID_FILE="$RMQ_PIDFILE"
    RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
    RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
    ERL_CRASH_DUMP="$RMQ_LOGDIR/erl_crash.dump"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  )
}

as_rabbit() { as_user rabbitmq "$RMQ_DIR" "${RMQ_ENV[@]}" "$@"; }

rmqctl() { as_rabbit "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBIT_NODE" "$@"; }

rabbit_pid() { [[ -f $RMQ_PIDFILE ]] && tr -d '[:space:]' <"$RMQ_PIDFILE" || true; }

# Our node is alive: the pid file names a live beam process started with our data folder.
rabbit_alive() {
  local pid; pid=$(rabbit_pid)
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/environ ]] || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */beam.smp ]] || return 1
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "RABBITMQ_MNESIA_BASE=$RMQ_MNESIA"
}

# Files and folders the node needs, owned by rabbitmq (else `cannot_log_to_file … eacces`).
rabbit_prepare() {
  install -d -o rabbitmq -g rabbitmq -m 0750 "$RMQ_DIR" "$RMQ_HOME" "$RMQ_MNESIA" "$RMQ_LOGDIR"
  local cookie=$RMQ_HOME/.erlang.cookie
  if [[ ! -s $cookie ]]; then
    # A private cookie: only this node and our rabbitmqctl calls (same HOME) know it.
    ( umask 077; head -c 64 /dev/urandom | sha256sum | cut -c1-40 | tr -d '\n' >"$cookie" )
    chown rabbitmq:rabbitmq "$cookie"; chmod 0400 "$cookie"
  fi
  # No plugins at all (no management UI): the list is empty.
  echo '[].' >"$RMQ_DIR/enabled_plugins"
  : >"$RMQ_DIR/rabbitmq-env.conf"
  cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by infra/services.sh on every 'up'; edit the script, not this file.
# The listener (127.0.0.1:$RABBIT_PORT) comes from RABBITMQ_NODE_IP_ADDRESS/RABBITMQ_NODE_PORT.
# Only 'guest' is restricted to loopback (the default, stated explicitly); '$APP_USER' is not
# listed, and the node listens on 127.0.0.1 only anyway.
loopback_users.guest = true
# Seeds the application user when the node boots with an empty database; rabbit_provision
# re-asserts it on every cold start in case the database predates this setting.
default_user = $APP_USER
default_pass = $APP_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
# A test machine's disk may be small: only block publishers when really full.
disk_free_limit.absolute = 100MB
log.console = false
log.file.level = info
EOF
  rm -f "$RMQ_DIR/advanced.config"
  chown rabbitmq:rabbitmq "$RMQ_DIR/enabled_plugins" "$RMQ_DIR/rabbitmq-env.conf" "$RMQ_DIR/rabbitmq.conf"
}

# Launches the node in the background (own session, so it outlives the caller) and waits
# until it accepts AMQP connections; fails early with the log tail if the node dies.
rabbit_start() {
  if tcp_open "$RABBIT_PORT"; then
    die "rabbitmq: port 127.0.0.1:$RABBIT_PORT is taken by another process (another checkout's instance? see: ss -ltnp 'sport = :$RABBIT_PORT'); set ORCHESTRATOR_RABBIT_PORT"
  fi
  if tcp_open "$RABBIT_DIST_PORT"; then
    die "rabbitmq: distribution port 127.0.0.1:$RABBIT_DIST_PORT is taken by another process; set ORCHESTRATOR_RABBIT_DIST_PORT"
  fi
  rm -f "$RMQ_PIDFILE"   # stale: the node is known not to run
  : >"$RMQ_STARTUP_LOG"; chown rabbitmq:rabbitmq "$RMQ_STARTUP_LOG"
  log "rabbitmq: starting node $RABBIT_NODE on 127.0.0.1:$RABBIT_PORT"
  # fd 9 (our lock) is closed for the child, or the node would hold the lock forever;
  # stdout/stderr go to a log, or `$(infra/services.sh up)` would wait for the node to exit.
  cd "$RMQ_DIR"
  setsid runuser -u rabbitmq -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LC_ALL=C.UTF-8 LANG=C.UTF-8 "${RMQ_ENV[@]}" "$RABBIT_BIN/rabbitmq-server" \
    </dev/null >>"$RMQ_STARTUP_LOG" 2>&1 9>&- &
  local launcher=$!
  cd - >/dev/null
  local deadline=$((SECONDS + START_TIMEOUT))
  until tcp_open "$RABBIT_PORT" && rabbit_alive; do
    # The launcher (runuser -> rabbitmq-server script -> erl) lives as long as the node:
    # once it is gone the node has crashed, no point in waiting for the deadline.
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail_log "$RMQ_STARTUP_LOG" "$RMQ_LOGDIR/$RABBIT_NODE.log"
      die "rabbitmq: node exited during start-up"
    fi
    if (( SECONDS >= deadline )); then
      tail_log "$RMQ_STARTUP_LOG" "$RMQ_LOGDIR/$RABBIT_NODE.log"
      die "rabbitmq: did not come up within ${START_TIMEOUT}s"
    fi
    sleep 0.25
  done
  rmqctl await_startup --timeout "$START_TIMEOUT" >/dev/null
}

# The application user: administrator with all permissions on vhost '/'. Idempotent.
rabbit_provision() {
  rmqctl add_user "$APP_USER" "$APP_PASSWORD" >/dev/null 2>&1 ||
    rmqctl change_password "$APP_USER" "$APP_PASSWORD" >/dev/null
  rmqctl set_user_tags "$APP_USER" administrator >/dev/null
  rmqctl set_permissions -p / "$APP_USER" '.*' '.*' '.*' >/dev/null
}

rabbit_up() {
  if rabbit_alive && tcp_open "$RABBIT_PORT"; then
    log "rabbitmq: already running (pid $(rabbit_pid))"
    return 0
  fi
  if rabbit_alive; then
    # Alive but not listening yet: a concurrent start, or stuck. Let await_startup decide.
    rmqctl await_startup --timeout "$START_TIMEOUT" >/dev/null ||
      { tail_log "$RMQ_LOGDIR/$RABBIT_NODE.log"; die "rabbitmq: pid $(rabbit_pid) runs but does not start"; }
  else
    rabbit_prepare
    rabbit_start
  fi
  rabbit_provision
}

# Stops our node (rabbitmqctl stop waits for the pid to exit), falling back to SIGTERM /
# SIGKILL if rabbitmqctl cannot reach it, then stops the private epmd the node started.
rabbit_down() {
  [[ -d $RMQ_DIR ]] || return 0
  if rabbit_alive; then
    local pid; pid=$(rabbit_pid)
    log "rabbitmq: stopping (pid $pid)"
    if ! rmqctl stop "$RMQ_PIDFILE" >/dev/null 2>&1; then
      log "rabbitmq: rabbitmqctl stop failed; sending SIGTERM"
      kill -TERM "$pid" 2>/dev/null || true
      local deadline=$((SECONDS + 30))
      while [[ -d /proc/$pid ]] && (( SECONDS < deadline )); do sleep 0.2; done
      [[ -d /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RMQ_PIDFILE"
  # Our epmd (private port) outlives the node. `epmd -kill` refuses while any node is
  # still registered, so this never takes down someone else's node.
  if tcp_open "$EPMD_PORT"; then
    ERL_EPMD_PORT=$EPMD_PORT epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  fi
}

rabbit_status() {
  if rabbit_alive && tcp_open "$RABBIT_PORT"; then
    echo "rabbitmq: running (pid $(rabbit_pid)) node $RABBIT_NODE on 127.0.0.1:$RABBIT_PORT, data $RMQ_DIR, log $RMQ_LOGDIR/$RABBIT_NODE.log"
  elif rabbit_alive; then
    echo "rabbitmq: process $(rabbit_pid) alive but not listening on $RABBIT_PORT (starting?), log $RMQ_LOGDIR"; return 3
  else
    echo "rabbitmq: stopped (data $RMQ_DIR)"; return 3
  fi
}

# ---------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------

print_env() {
  local s
  for s in "$@"; do
    case $s in
      postgres) echo "export ConnectionStrings__Postgres=\"Host=127.0.0.1;Port=$PG_PORT;Username=$APP_USER;Password=$APP_PASSWORD;Database=$APP_DB\"" ;;
      rabbitmq) echo "export ConnectionStrings__RabbitMq=\"amqp://$APP_USER:$APP_PASSWORD@127.0.0.1:$RABBIT_PORT/\"" ;;
    esac
  done
}

# Serializes concurrent invocations (parallel test runs calling `up`) on one data folder.
take_lock() {
  exec 9>"$DATA_DIR/.services.lock"
  flock -w $((START_TIMEOUT * 2)) 9 || die "another infra/services.sh holds $DATA_DIR/.services.lock"
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
