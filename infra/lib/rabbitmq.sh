# shellcheck shell=bash
# The private RabbitMQ of infra/services.sh: a node of its own (own ports, own epmd, own cookie) in the data folder,
# with the application's user. Sourced by infra/services.sh, which sets the settings (RABBIT_PORT, RABBIT_NODE,
# APP_USER, …); the helpers come from common.sh.

# Where the node lives under the data folder (resolve_data_dir first).
rabbit_paths() {
  RMQ_DIR=$DATA_DIR/rabbitmq           # owned by rabbitmq, 0750
  RMQ_HOME=$RMQ_DIR/home               # HOME of server AND rabbitmqctl: same .erlang.cookie
  RMQ_MNESIA=$RMQ_DIR/mnesia
  RMQ_LOGDIR=$RMQ_DIR/log
  RMQ_PIDFILE=$RMQ_DIR/$RABBIT_NODE.pid
  RMQ_STARTUP_LOG=$RMQ_LOGDIR/startup.log
}

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

rabbit_pid() {
  if [[ -f $RMQ_PIDFILE ]]; then tr -d '[:space:]' <"$RMQ_PIDFILE" || true; fi
}

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
# Written by infra/services.sh on every 'up'; edit infra/lib/rabbitmq.sh, not this file.
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
  # AMQPS beside AMQP when services.sh made a server certificate; clients verify it, the broker asks for no client one.
  if tls_ready; then
    install -d -o rabbitmq -g rabbitmq -m 0750 "$RMQ_DIR/tls"
    install -o rabbitmq -g rabbitmq -m 0600 "$TLS_DIR/services/ca-cert.pem" "$RMQ_DIR/tls/ca-cert.pem"
    install -o rabbitmq -g rabbitmq -m 0600 "$TLS_DIR/services/server-cert.pem" "$RMQ_DIR/tls/server-cert.pem"
    install -o rabbitmq -g rabbitmq -m 0600 "$TLS_DIR/services/server-key.pem" "$RMQ_DIR/tls/server-key.pem"
    cat >>"$RMQ_DIR/rabbitmq.conf" <<EOF
listeners.ssl.1 = 127.0.0.1:$RABBIT_TLS_PORT
ssl_options.cacertfile = $RMQ_DIR/tls/ca-cert.pem
ssl_options.certfile = $RMQ_DIR/tls/server-cert.pem
ssl_options.keyfile = $RMQ_DIR/tls/server-key.pem
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
EOF
  fi
  rm -f "$RMQ_DIR/advanced.config"
  chown rabbitmq:rabbitmq "$RMQ_DIR/enabled_plugins" "$RMQ_DIR/rabbitmq-env.conf" "$RMQ_DIR/rabbitmq.conf"
}

# Launches the node in the background (own session, so it outlives the caller) and waits
# until it accepts AMQP connections; fails early with the log tail if the node dies.
rabbit_start() {
  if tcp_open "$RABBIT_PORT"; then
    die "rabbitmq: port 127.0.0.1:$RABBIT_PORT is taken by another process (another checkout's instance? see: ss -ltnp 'sport = :$RABBIT_PORT'); set ORCHESTRATOR_RABBIT_PORT"
  fi
  if tls_ready && tcp_open "$RABBIT_TLS_PORT"; then
    die "rabbitmq: AMQPS port 127.0.0.1:$RABBIT_TLS_PORT is taken by another process; set ORCHESTRATOR_RABBIT_TLS_PORT"
  fi
  if tcp_open "$RABBIT_DIST_PORT"; then
    die "rabbitmq: distribution port 127.0.0.1:$RABBIT_DIST_PORT is taken by another process; set ORCHESTRATOR_RABBIT_DIST_PORT"
  fi
  rm -f "$RMQ_PIDFILE"   # stale: the node is known not to run
  : >"$RMQ_STARTUP_LOG"; chown rabbitmq:rabbitmq "$RMQ_STARTUP_LOG"
  log "rabbitmq: starting node $RABBIT_NODE on 127.0.0.1:$RABBIT_PORT"
  # fd 9 (our lock) is closed for the child, or the node would hold the lock forever;
  # stdout/stderr go to a log, or `$(infra/services.sh up)` would wait for the node to exit.
  # The subshell enters the node's folder and becomes the launcher (exec), so $! is the launcher.
  (cd "$RMQ_DIR" && exec setsid runuser -u rabbitmq -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LC_ALL=C.UTF-8 LANG=C.UTF-8 "${RMQ_ENV[@]}" "$RABBIT_BIN/rabbitmq-server") \
    </dev/null >>"$RMQ_STARTUP_LOG" 2>&1 9>&- &
  local launcher=$!
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
      if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
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
