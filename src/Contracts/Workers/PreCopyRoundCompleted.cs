namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: one pre-copy pass over the dirty memory finished.</summary>
public sealed record PreCopyRoundCompleted(
    Guid MigrationId,
    int Round,
    long BytesTransferred,
    long BytesRemaining,
    long DirtyRateBytesPerSecond,
    long BandwidthBytesPerSecond,
    double ExpectedDowntimeMs,
    DateTimeOffset Timestamp,
    int ThrottlePercent = 0,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
