namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Internal to the workflow: a message of the migration was set aside as a <see cref="DeadLetter"/> (its id), so the
/// migration ends or goes on with the reason instead of waiting for a timeout.
/// </summary>
/// <param name="Source">One of <see cref="DeadLetterSources"/>.</param>
/// <param name="MessageType">The type name without its namespace.</param>
/// <param name="Queue">Where it was to go (a worker's queue) or where it came in.</param>
public sealed record MessageGivenUp(Guid MigrationId, Guid MessageId, string Source, string MessageType, string? Queue, string Reason);
