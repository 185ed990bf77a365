#!/usr/bin/env bash
# A walk through the Orchestrator's HTTP API with curl alone (docs/integrate.md quotes it; a test runs it against a real
# serve): start a migration with an API key, poll it until it ends, list migrations, read its history, and see how a
# refused request is answered (an RFC 9457 problem: application/problem+json).
#
#   ORCHESTRATOR_API=http://127.0.0.1:5080 ORCHESTRATOR_API_KEY=<a key from Api:Clients> examples/curl/walkthrough.sh
#
# Optional: VM, SOURCE_HOST, TARGET_HOST, HYPERVISOR (sim by default), TIMEOUT_SECONDS (120). Exits 0 when the migration
# completed and the bad request was refused with 400; the API's answers are printed as they come.
set -euo pipefail

api="${ORCHESTRATOR_API:?set ORCHESTRATOR_API to the address of serve, e.g. http://127.0.0.1:5080}"
api="${api%/}"
key="${ORCHESTRATOR_API_KEY:?set ORCHESTRATOR_API_KEY to a client key from Api:Clients}"
vm="${VM:-vm-curl-$$}"
source_host="${SOURCE_HOST:-host-a}"
target_host="${TARGET_HOST:-host-b}"
hypervisor="${HYPERVISOR:-sim}"
deadline=$((SECONDS + ${TIMEOUT_SECONDS:-120}))

# Every request carries the key; X-Api-Key works too as "Authorization: Bearer <key>".
call() {   # call METHOD PATH [JSON BODY]: prints the body, then the status on a line of its own
  local method=$1 path=$2 body=()
  if (( $# > 2 )); then body=(-H "Content-Type: application/json" --data "$3"); fi
  curl --silent --show-error --max-time 30 -X "$method" -H "X-Api-Key: $key" -H "Accept: application/json" \
    "${body[@]}" --write-out "\n%{http_code}\n" "$api$path"
}

# The first value of a member in a JSON answer (jq does this better; sed keeps the walkthrough to curl and a shell).
member() {   # member NAME < JSON
  tr ',{' '\n' | sed -nE "s/.*\"$1\":\"?([^\",}]*).*/\\1/p" | head -n 1
}

echo "== 1. Start a migration: POST /api/migrations (answered 202 once the command is stored)"
answer=$(call POST /api/migrations \
  "{\"vmId\":\"$vm\",\"sourceHost\":\"$source_host\",\"targetHost\":\"$target_host\",\"hypervisor\":\"$hypervisor\",\"policy\":{\"maxDowntimeMs\":300}}")
echo "$answer"
[[ $(tail -n 1 <<<"$answer") == 202 ]] || { echo "expected 202 Accepted" >&2; exit 1; }
id=$(head -n -1 <<<"$answer" | member migrationId)
echo "migrationId: $id"

echo "== 2. Poll it: GET /api/migrations/$id (404 until the workflow has the command, then its summary)"
state=""
while :; do
  answer=$(call GET "/api/migrations/$id")
  if [[ $(tail -n 1 <<<"$answer") == 200 ]]; then
    state=$(head -n -1 <<<"$answer" | member state)
    echo "state: $state"
    case $state in Completed | RolledBack | Failed | Cancelled | Rejected) break ;; esac
  fi
  (( SECONDS < deadline )) || { echo "the migration did not end in time (last state: ${state:-none})" >&2; exit 1; }
  sleep 1
done
head -n -1 <<<"$answer"

echo "== 3. List migrations of this VM, newest first: GET /api/migrations?vm=$vm&pageSize=5"
call GET "/api/migrations?vm=$vm&pageSize=5"

echo "== 4. Its history, every event in order: GET /api/migrations/$id/events"
call GET "/api/migrations/$id/events"

echo "== 5. A refused request: a host that is not a name, and a member the command does not have"
answer=$(call POST /api/migrations \
  "{\"vmId\":\"$vm\",\"sourceHost\":\"host a\",\"targetHost\":\"$target_host\",\"hypervisor\":\"$hypervisor\"}")
echo "$answer"
[[ $(tail -n 1 <<<"$answer") == 400 ]] || { echo "expected 400 with a problem" >&2; exit 1; }
answer=$(call POST /api/migrations \
  "{\"vmId\":\"$vm\",\"sourceHost\":\"$source_host\",\"targetHost\":\"$target_host\",\"hypervisor\":\"$hypervisor\",\"maxDowntimeMs\":300}")
echo "$answer"
[[ $(tail -n 1 <<<"$answer") == 400 ]] || { echo "expected 400 with a problem" >&2; exit 1; }

[[ $state == Completed ]] || { echo "the migration ended $state" >&2; exit 1; }
echo "== done: migration $id Completed"
