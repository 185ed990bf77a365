namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report, sent periodically while a long step runs: the worker is alive and the step goes on.</summary>
public sealed record StepHeartbeat(Guid MigrationId, string Step, string Host, DateTimeOffset Timestamp) : IMigrationEvent;
