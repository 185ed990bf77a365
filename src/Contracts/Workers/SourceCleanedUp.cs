namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: what was left of the VM on the source host is gone.</summary>
public sealed record SourceCleanedUp(Guid MigrationId, string Host, DateTimeOffset Timestamp) : IMigrationEvent;
