#!/usr/bin/env bash
# The test command (README): installs what is missing, starts the private PostgreSQL and RabbitMQ, runs every test
# (unit and integration), stops the services it started, prints "N passed, N failed" and exits non-zero on any failure.
# Two checks of the run count as tests in that line: shellcheck finds nothing in the repository's shell scripts, and
# the run leaves no PostgreSQL schema behind.
#   ./test.sh                      every test
#   ./test.sh --filter-trait "Category=Integration"   extra arguments go to the test runner (xunit v3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v dotnet >/dev/null || { echo "The .NET SDK (dotnet) is required: see global.json for the version." >&2; exit 1; }

# tmux: the terminal the `watch` test drives, as an operator's terminal would show it; iproute2's `ss -K`: how a
# post-copy test cuts the migration's TCP connection; shellcheck: the first check below; systemd's
# `systemd-analyze verify`: the deployment test checks the systemd units with it; python3 with Debian's
# python3-cryptography (Ed25519): the independent audit verifier, tools/audit_verify.py, that the audit tests run.
missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v ss >/dev/null || missing+=(iproute2)
command -v shellcheck >/dev/null || missing+=(shellcheck)
# openssl: infra/tls.sh makes the QEMU migration stream's development CA and host credentials.
command -v openssl >/dev/null || missing+=(openssl)
# curl: examples/curl/walkthrough.sh, the HTTP API's walkthrough that a test runs.
command -v curl >/dev/null || missing+=(curl)
# chromium: the browser the dashboard's tests drive (Playwright, through ExecutablePath).
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v systemd-analyze >/dev/null || missing+=(systemd)
python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null || missing+=(python3 python3-cryptography)
# Debian's python3-pika: examples/python/start_migration.py, which a test runs (Debian's python3, not another on the PATH).
/usr/bin/python3 -c 'import pika' 2>/dev/null || missing+=(python3-pika)
# npm: fetches the AsyncAPI 3.0 JSON Schema (below) that docs/asyncapi.json is validated against.
command -v npm >/dev/null || missing+=(npm)
if (( ${#missing[@]} )); then
  apt-get -o DPkg::Lock::Timeout=900 -q update >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -q install -y "${missing[@]}" >&2
fi

# Checks that count as tests: their names when they fail, how many passed.
check_failures=()
checks_passed=0
check() {   # check NAME OK [DETAIL]
  if [[ $2 == yes ]]; then checks_passed=$((checks_passed + 1)); else check_failures+=("$1${3:+: $3}"); fi
}

# Every shell script of the repository (tracked or new, not ignored), with the files they source (-x).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t scripts < <(git ls-files --cached --others --exclude-standard -- '*.sh' .ci/run)
else
  mapfile -t scripts < <(find . -path ./.data -prune -o \( -name '*.sh' -o -path ./.ci/run \) -type f -print)
fi
if shellcheck -x "${scripts[@]}"; then
  check "shellcheck" yes
else
  check "shellcheck" no "findings in the shell scripts, printed above the build"
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

# This run's key: every PostgreSQL schema its test processes make carries it (tests/TestSupport/TestSchema.cs), so
# what the run leaves behind can be told apart from other checkouts' schemas. First, what killed runs left behind: only
# the schemas of runs none of whose processes lives (infra/schemas.sh says how it knows).
ORCHESTRATOR_TEST_RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export ORCHESTRATOR_TEST_RUN
infra/schemas.sh sweep || echo "[schemas] the sweep of earlier runs' schemas failed; the run goes on" >&2

mkdir -p .data
# The AsyncAPI 3.0 JSON Schema (bundled, without $id) from the npm registry's @asyncapi/specs (Apache-2.0), unpacked
# once into .data/asyncapi-specs: tests/Contracts.Tests validates docs/asyncapi.json against it.
asyncapi_specs=.data/asyncapi-specs
if [[ ! -f $asyncapi_specs/package/schemas/3.0.0-without-\$id.json ]]; then
  mkdir -p "$asyncapi_specs"
  (cd "$asyncapi_specs" && npm pack --silent @asyncapi/specs@6.11.1 >/dev/null && tar xzf asyncapi-specs-6.11.1.tgz) ||
    echo "[contract] npm pack @asyncapi/specs failed: the AsyncAPI validation test will say so" >&2
fi
log=.data/test-output.log
set +e
{
  dotnet build Orchestrator.sln --nologo -v quiet -clp:ErrorsOnly &&
  dotnet test --solution Orchestrator.sln --no-build --no-progress -- "$@"
} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Every test class drops the schemas it made, pass or fail; what this run's processes (all ended now) left is a leak.
if left=$(infra/schemas.sh left "$ORCHESTRATOR_TEST_RUN"); then
  if [[ -z $left ]]; then
    check "no PostgreSQL schema left behind" yes
  else
    check "no PostgreSQL schema left behind" no "the run left $(wc -l <<<"$left"): ${left//$'\n'/ }"
    infra/schemas.sh sweep || true
  fi
else
  check "no PostgreSQL schema left behind" no "could not list the run's schemas"
fi

# dotnet test closes with "total: N / failed: N / succeeded: N / skipped: N"; CI reads the plain line below.
tests_passed=$(awk '/^[[:space:]]*succeeded:/ {n=$2} END {print n+0}' "$log")
failed=$(awk '/^[[:space:]]*failed:/ {n=$2} END {print n+0}' "$log")
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi   # the build or the runner itself failed
passed=$((tests_passed + checks_passed))
failed=$((failed + ${#check_failures[@]}))
cleanup; trap - EXIT   # stop the services first, so the counts are the last line
# The failed tests' names and messages last, next to the counts: a CI log that keeps only its tail still says which.
if (( failed > 0 )); then
  echo "Failed tests:"
  awk '/^failed / {print; keep=1; shown=0; next}
       keep && /^  from / {next}
       keep && /^  / && !/^    at / {if (++shown <= 6) print; next}
       /^    at / {next}
       {keep=0}' "$log"
  for failure in "${check_failures[@]}"; do echo "failed check: $failure"; done
fi
echo "$passed passed, $failed failed"
[[ $status -eq 0 && $failed -eq 0 && $tests_passed -gt 0 ]]
