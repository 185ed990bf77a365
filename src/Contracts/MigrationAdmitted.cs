namespace Orchestrator.Contracts;

/// <summary>The migration may start; <see cref="Epoch"/> fences every command sent to workers for it.</summary>
public sealed record MigrationAdmitted(Guid MigrationId, int Epoch, DateTimeOffset Timestamp, int SchemaVersion = 1) : IMigrationEvent;
