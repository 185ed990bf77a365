namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: the transfer was stopped; the VM keeps running on the source host.</summary>
public sealed record MigrationAborted(Guid MigrationId, string Host, DateTimeOffset Timestamp) : IMigrationEvent;
