# shellcheck shell=bash
# The private PostgreSQL of infra/services.sh: a cluster of its own in the data folder, on its own port, with the
# application's role and database. Sourced by infra/services.sh, which sets the settings (PG_PORT, PG_BIN, APP_USER, …);
# the helpers come from common.sh.

# Where the cluster lives under the data folder (resolve_data_dir first).
pg_paths() {
  PG_DIR=$DATA_DIR/postgres            # owned by postgres, 0700
  PG_DATA=$PG_DIR/data                 # the cluster (PGDATA)
  PG_RUN=$PG_DIR/run                   # unix socket + lock file (not /var/run/postgresql)
  PG_LOG=$PG_DIR/postgres.log
}

as_pg() { as_user postgres "$PG_DIR" "$@"; }

pg_psql_admin() {   # superuser psql over the private unix socket (peer auth), SQL on stdin
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres
}

pg_pid() {
  if [[ -f $PG_DATA/postmaster.pid ]]; then head -n1 "$PG_DATA/postmaster.pid" || true; fi
}

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
# Written by infra/services.sh on every 'up'; edit infra/lib/postgres.sh, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
password_encryption = 'scram-sha-256'
EOF
  # SSL on the same port when services.sh made a server certificate (clients choose: SSL Mode=VerifyFull).
  if tls_ready; then
    install -o postgres -g postgres -m 0600 "$TLS_DIR/services/server-cert.pem" "$PG_DATA/tls-server.crt"
    install -o postgres -g postgres -m 0600 "$TLS_DIR/services/server-key.pem" "$PG_DATA/tls-server.key"
    as_pg tee -a "$PG_DATA/orchestrator.conf" >/dev/null <<'EOF'
ssl = on
ssl_cert_file = 'tls-server.crt'
ssl_key_file = 'tls-server.key'
EOF
  fi
  as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by infra/services.sh (infra/lib/postgres.sh). Superuser only over the private unix socket (peer);
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
  local pids deadline=$((SECONDS + 10)) leftover
  while pids=$(pg_leftovers); [[ -n $pids ]]; do
    if (( SECONDS >= deadline )); then
      mapfile -t leftover <<<"$pids"
      log "postgres: killing leftover processes of a dead postmaster: ${leftover[*]}"
      kill -KILL "${leftover[@]}" 2>/dev/null || true
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
  # end of a CI step or terminal would take it down. Started from its own folder, as as_user does.
  : >"$PG_LOG"; chown postgres:postgres "$PG_LOG"
  if ! (cd "$PG_DIR" && setsid -w runuser -u postgres -- env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 \
      "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" start) </dev/null >/dev/null 2>&1 9>&- || ! pg_ready; then
    tail_log "$PG_LOG"
    die "postgres: did not come up within ${START_TIMEOUT}s"
  fi
}

# Role and database, idempotent; cheap enough (~50 ms) to run on every `up`. CREATEROLE: the audit tests create a
# role that may only SELECT, to show that verify, replay and export run under it.
pg_provision() {
  pg_psql_admin <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_USER') THEN
    CREATE ROLE $APP_USER LOGIN CREATEDB CREATEROLE PASSWORD '$APP_PASSWORD';
  ELSE
    ALTER ROLE $APP_USER LOGIN CREATEDB CREATEROLE PASSWORD '$APP_PASSWORD';
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
