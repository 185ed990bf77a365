#!/usr/bin/env bash
# The test command (README): installs what is missing, starts the private PostgreSQL and RabbitMQ, runs every test
# (unit and integration), stops the services it started, prints "N passed, N failed" and exits non-zero on any failure.
#   ./test.sh                      every test
#   ./test.sh --filter-trait "Category=Integration"   extra arguments go to the test runner (xunit v3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v dotnet >/dev/null || { echo "The .NET SDK (dotnet) is required: see global.json for the version." >&2; exit 1; }

# tmux: the terminal the `watch` test drives, as an operator's terminal would show it; iproute2's `ss -K`: how a
# post-copy test cuts the migration's TCP connection.
missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v ss >/dev/null || missing+=(iproute2)
if (( ${#missing[@]} )); then
  apt-get -o DPkg::Lock::Timeout=900 -q update >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -q install -y "${missing[@]}" >&2
fi

# Stop at the end only what this run started: a developer's running services stay up.
if infra/services.sh status >/dev/null 2>&1; then started=no; else started=yes; fi
vhost=""
cleanup() {
  if [[ -n $vhost ]]; then infra/vhost.sh delete "$vhost"; fi
  if [[ $started == yes ]]; then infra/services.sh down || true; fi
}
trap cleanup EXIT
eval "$(infra/services.sh up)"
eval "$(infra/qemu.sh setup)"   # QEMU and the test guest the qemu driver's tests migrate

# A RabbitMQ virtual host of this run's own: runs from other checkouts on the same node never share a queue.
vhost="test-$(date +%s)-$$"
infra/vhost.sh create "$vhost"
export ConnectionStrings__RabbitMq="${ConnectionStrings__RabbitMq%/}/$vhost"

mkdir -p .data
log=.data/test-output.log
set +e
{
  dotnet build Orchestrator.sln --nologo -v quiet -clp:ErrorsOnly &&
  dotnet test --solution Orchestrator.sln --no-build --no-progress -- "$@"
} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# dotnet test closes with "total: N / failed: N / succeeded: N / skipped: N"; CI reads the plain line below.
passed=$(awk '/^[[:space:]]*succeeded:/ {n=$2} END {print n+0}' "$log")
failed=$(awk '/^[[:space:]]*failed:/ {n=$2} END {print n+0}' "$log")
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi   # the build or the runner itself failed
cleanup; trap - EXIT   # stop the services first, so the counts are the last line
# The failed tests' names and messages last, next to the counts: a CI log that keeps only its tail still says which.
if (( failed > 0 )); then
  echo "Failed tests:"
  awk '/^failed / {print; keep=1; shown=0; next}
       keep && /^  from / {next}
       keep && /^  / && !/^    at / {if (++shown <= 6) print; next}
       /^    at / {next}
       {keep=0}' "$log"
fi
echo "$passed passed, $failed failed"
[[ $status -eq 0 && $failed -eq 0 && $passed -gt 0 ]]
