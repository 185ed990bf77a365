using MassTransit;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// A bus of its own (its own connection and channels) for the outbox dispatcher, where the messages that could not be
/// delivered right after their commit go out, and for the first message to each queue (<see cref="QueueStandings"/>). RabbitMQ answers a send to a queue it refuses by closing the channel it
/// came on, and the sends of other migrations in flight on that channel fail or, unconfirmed, can be lost with it; a
/// poison tried here takes down only this bus's channel. Optional: without it (the
/// in-memory transport) the dispatcher uses the main bus.
/// </summary>
public interface IOutboxBus : IBus;
