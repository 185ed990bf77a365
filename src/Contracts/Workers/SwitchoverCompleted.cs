namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: the VM runs on <see cref="RunningOn"/>; ownership has moved.</summary>
public sealed record SwitchoverCompleted(
    Guid MigrationId,
    string RunningOn,
    long TotalBytesTransferred,
    DateTimeOffset Timestamp,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
