namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: every page reached the target; the source holds nothing the VM needs any more.</summary>
public sealed record PostCopyCompleted(
    Guid MigrationId,
    string RunningOn,
    long BytesTransferred,
    long PageFaults,
    DateTimeOffset Timestamp,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
