namespace Orchestrator.Contracts;

/// <summary>The migration was cancelled on request; the VM runs on <see cref="RunningOn"/>, its source host.</summary>
public sealed record MigrationCancelled(Guid MigrationId, string Reason, string RunningOn, string? RequestedBy, DateTimeOffset Timestamp, int SchemaVersion = 1) : IMigrationEvent;
