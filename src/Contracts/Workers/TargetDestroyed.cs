namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: the destination on <see cref="Host"/> was removed.</summary>
public sealed record TargetDestroyed(Guid MigrationId, string Host, DateTimeOffset Timestamp) : IMigrationEvent;
