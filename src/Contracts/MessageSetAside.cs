namespace Orchestrator.Contracts;

/// <summary>
/// A message of the migration was set aside as a dead letter after bounded attempts: a command the workflow sent that
/// could not be delivered (<see cref="Source"/> <c>outbox</c>), or a message to the workflow that could not be applied
/// (<c>input</c>). Recorded on the migration's stream; what the migration did about it follows in the same transition.
/// </summary>
/// <param name="MessageId">The dead letter's id (<c>GET /api/dead-letters</c>).</param>
/// <param name="MessageType">The message's type name, without its namespace.</param>
/// <param name="Host">The host the command was for, when it was for a worker.</param>
/// <param name="Reason">The last failure, in one line.</param>
public sealed record MessageSetAside(
    Guid MigrationId,
    Guid MessageId,
    string Source,
    string MessageType,
    string? Host,
    string Reason,
    DateTimeOffset Timestamp) : IMigrationEvent;
