#!/usr/bin/env python3
"""Start a live migration over AMQP and wait for its outcome, as a service without MassTransit would.

Needs only pika (Debian: python3-pika) and the published contract (docs/integrate.md, docs/asyncapi.json):
  1. declare a private queue bound to the topic exchange orchestrator.events (before anything is sent, so no event is
     missed: serve declares that exchange when it starts);
  2. publish a StartMigration as plain JSON (application/json, camelCase) to the exchange orchestrator.start-migration;
  3. read CloudEvents (application/cloudevents+json) until one of this migration's outcomes arrives, and print it.

    start_migration.py --amqp amqp://user:pass@host:5672/vhost --vm vm-42 --source host-a --target host-b

Exit code: 0 the migration completed; 1 it ended otherwise (failed, rolled back, cancelled, rejected);
2 no outcome before --timeout seconds, or no queue took the command (no orchestrator on that virtual host).
"""

import argparse
import json
import os
import sys
import time
import uuid

import pika
import pika.exceptions

EVENTS_EXCHANGE = "orchestrator.events"
START_EXCHANGE = "orchestrator.start-migration"
OUTCOMES = {
    "orchestrator.migration.completed.v1",
    "orchestrator.migration.failed.v1",
    "orchestrator.migration.rolled-back.v1",
    "orchestrator.migration.cancelled.v1",
    "orchestrator.migration.rejected.v1",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amqp", default=os.environ.get("ORCHESTRATOR_AMQP", "amqp://guest:guest@localhost:5672/%2F"),
                        help="the RabbitMQ the orchestrator uses (default: $ORCHESTRATOR_AMQP)")
    parser.add_argument("--vm", required=True)
    parser.add_argument("--source", required=True, help="the host the VM runs on")
    parser.add_argument("--target", required=True, help="the host it moves to")
    parser.add_argument("--hypervisor", default="sim", choices=["sim", "qemu"])
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the outcome")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()

    # 1. Our own queue, bound before the command is sent: every event of the migration lands in it.
    queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue=queue, exchange=EVENTS_EXCHANGE, routing_key="migration.#")

    # 2. The command, with publisher confirms and mandatory: basic_publish raises if RabbitMQ does not take it, or takes it
    #    and can route it nowhere (no orchestrator ever declared its intake in this virtual host), instead of dropping it.
    migration_id = str(uuid.uuid4())
    command = {
        "migrationId": migration_id,
        "vmId": args.vm,
        "sourceHost": args.source,
        "targetHost": args.target,
        "hypervisor": args.hypervisor,
        "requestedBy": "python-example",
        "schemaVersion": 1,
    }
    channel.confirm_delivery()
    try:
        channel.basic_publish(exchange=START_EXCHANGE, routing_key="", body=json.dumps(command), mandatory=True,
                              properties=pika.BasicProperties(content_type="application/json", delivery_mode=2))
    except pika.exceptions.UnroutableError:
        print(f"{START_EXCHANGE} routes to no queue: is the orchestrator's serve running on this virtual host?", file=sys.stderr)
        return 2
    print(f"sent StartMigration {migration_id}: {args.vm} {args.source} -> {args.target}", flush=True)

    # 3. CloudEvents, until this migration's outcome.
    deadline = time.monotonic() + args.timeout
    for method, properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=1):
        if time.monotonic() > deadline:
            print(f"no outcome within {args.timeout:.0f} s", file=sys.stderr)
            return 2
        if method is None:
            continue
        event = json.loads(body)
        if event.get("subject") != migration_id:
            continue  # another migration's
        data = event["data"]
        if event["type"] == "orchestrator.migration.state-changed.v1":
            print(f"{event['time']} {data.get('fromState') or '-'} -> {data['toState']}", flush=True)
        if event["type"] in OUTCOMES:
            print(json.dumps(event, indent=2), flush=True)
            connection.close()
            return 0 if event["type"] == "orchestrator.migration.completed.v1" else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
