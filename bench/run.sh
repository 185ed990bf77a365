#!/usr/bin/env bash
# Benchmarks on the project's private services: prints each figure beside a baseline measured in the same run.
#   bench/run.sh [migrations] [--events N]   everything: the QEMU comparison, saga throughput and step latency, then
#                                             replay and verify over N (default 1,000,000) hash-chained events
#   bench/run.sh --history-only [--events N]  only the replay and verify part
#   bench/run.sh qemu                         only the real QEMU migrations: orchestrated vs a direct QMP sequence,
#                                             orchestrated with a 64 MiB local disk vs without, with TLS vs plain
#   bench/run.sh saga [migrations]            only saga throughput and step latency, beside the INSERT baseline
#   bench/run.sh predict                      the predictor's forecasts against sim migrations (no service needed)
#   bench/run.sh scale [migrations] [--starts-per-second R] [--time-factor F] [--workers W] [--ready-to-run]
#                                             serve and sim workers as processes with (default) 10,000 migrations in
#                                             flight: the saga queue's deepest backlog, both processes' peak memory
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ${1:-} == predict ]]; then   # the model alone: no service to start
  exec dotnet run -c Release --project bench/Orchestrator.Bench -- "$@"
fi
if infra/services.sh status >/dev/null 2>&1; then started=no; else started=yes; fi
vhost=""
cleanup() {
  if [[ -n $vhost ]]; then infra/vhost.sh delete "$vhost"; fi
  if [[ $started == yes ]]; then infra/services.sh down; fi
}
trap cleanup EXIT
eval "$(infra/services.sh up)"
eval "$(infra/qemu.sh setup)"
# Both QEMU hosts' TLS credentials (one development CA), for the encrypted migration beside the plain one.
for host in bench-qa bench-qb; do infra/tls.sh host .data/tls/bench-ca ".data/tls/bench/$host" "$host"; done
export ORCHESTRATOR_BENCH_TLS=$PWD/.data/tls/bench
vhost="bench-$(date +%s)-$$"
infra/vhost.sh create "$vhost"
export ConnectionStrings__RabbitMq="${ConnectionStrings__RabbitMq%/}/$vhost"
# scale --ready-to-run: serve and the workers from a ReadyToRun publish (compiled ahead of time, as a deployment would
# publish it), instead of the build's orchestrator.dll that the JIT compiles as it first runs.
args=()
for arg in "$@"; do
  if [[ $arg == --ready-to-run ]]; then
    dotnet publish src/Orchestrator -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -o .data/bench/ready-to-run --nologo -v quiet -clp:ErrorsOnly
    export ORCHESTRATOR_BENCH_EXECUTABLE=$PWD/.data/bench/ready-to-run/orchestrator.dll
  else
    args+=("$arg")
  fi
done
dotnet run -c Release --project bench/Orchestrator.Bench -- "${args[@]}"
