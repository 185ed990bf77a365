# shellcheck shell=bash
# What both services of infra/services.sh share: logging, the data folder, running as a service user, probes, installing
# Debian's packages, the lock. Sourced by infra/services.sh, which sets the settings (REPO, PG_PORT, START_TIMEOUT, …)
# these functions read.

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

# Serializes concurrent invocations (parallel test runs calling `up`) on one data folder.
take_lock() {
  exec 9>"$DATA_DIR/.services.lock"
  flock -w $((START_TIMEOUT * 2)) 9 || die "another infra/services.sh holds $DATA_DIR/.services.lock"
}
