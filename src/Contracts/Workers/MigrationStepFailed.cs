namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: a step could not be carried out. <see cref="VmRunningOn"/> is where the VM runs now, as the worker sees it.</summary>
public sealed record MigrationStepFailed(
    Guid MigrationId,
    string Step,
    string Reason,
    string? VmRunningOn,
    DateTimeOffset Timestamp) : IMigrationEvent;
