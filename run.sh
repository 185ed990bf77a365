#!/usr/bin/env bash
# The run command (README): the embedded default. Installs PostgreSQL if it is missing, builds, and runs
# `orchestrator demo`: every role in one process, simulated hosts, a private PostgreSQL it starts and stops itself.
#   ./run.sh                 the demo
#   ./run.sh status          any other orchestrator command
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v dotnet >/dev/null || { echo "The .NET SDK (dotnet) is required: see global.json for the version." >&2; exit 1; }
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "Installing PostgreSQL from Debian's packages…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

dotnet build src/Orchestrator --nologo -v quiet -clp:ErrorsOnly
exec dotnet src/Orchestrator/bin/Debug/net10.0/orchestrator.dll "${@:-demo}"
