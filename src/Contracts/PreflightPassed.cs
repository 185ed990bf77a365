namespace Orchestrator.Contracts;

/// <summary>Worker report: the migration can go ahead; the prediction it made from the VM's behaviour.</summary>
public sealed record PreflightPassed(Guid MigrationId, long MemoryBytes, double PredictedDowntimeMs, DateTimeOffset Timestamp);
