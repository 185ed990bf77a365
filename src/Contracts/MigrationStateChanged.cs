namespace Orchestrator.Contracts;

/// <summary>Integration event published on every state change, for other services.</summary>
public sealed record MigrationStateChanged(
    Guid MigrationId,
    string? VmId,
    string? FromState,
    string ToState,
    DateTimeOffset Timestamp,
    int SchemaVersion = 1) : IMigrationEvent;
