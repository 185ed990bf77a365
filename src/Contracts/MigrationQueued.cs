namespace Orchestrator.Contracts;

/// <summary>
/// The migration waits for a free slot: <see cref="Reason"/> names the limit that holds it back and
/// <see cref="Position"/> its place in the queue when it joined (1 = next).
/// </summary>
public sealed record MigrationQueued(Guid MigrationId, int Position, string Reason, DateTimeOffset Timestamp, int SchemaVersion = 1) : IMigrationEvent;
