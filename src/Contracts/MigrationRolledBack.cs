namespace Orchestrator.Contracts;

/// <summary>The migration was undone after a failure; the VM runs on <see cref="RunningOn"/>, its source host.</summary>
public sealed record MigrationRolledBack(Guid MigrationId, string Reason, string RunningOn, DateTimeOffset Timestamp, int SchemaVersion = 1) : IMigrationEvent;
