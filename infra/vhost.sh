#!/usr/bin/env bash
# A RabbitMQ virtual host of a run's own on the private node, so runs from other checkouts or killed earlier runs
# never share a queue with it.
#   infra/vhost.sh create NAME    creates it, grants the orchestrator user everything on it
#   infra/vhost.sh delete NAME    removes it and every queue in it
set -euo pipefail
services="$(dirname "${BASH_SOURCE[0]}")/services.sh"
case "${1:-}" in
  create)
    "$services" rabbitmqctl add_vhost "$2" >/dev/null
    "$services" rabbitmqctl set_permissions -p "$2" orchestrator '.*' '.*' '.*' >/dev/null ;;
  delete)
    "$services" rabbitmqctl delete_vhost "$2" >/dev/null 2>&1 || true ;;
  *)
    echo "usage: $0 create|delete NAME" >&2; exit 2 ;;
esac
