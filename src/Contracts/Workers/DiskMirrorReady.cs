namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: every disk of the VM is mirrored on the target and kept in step with the guest's writes from now on;
/// the memory transfer begins. <see cref="ElapsedMs"/>: from the start of the mirror to this moment.
/// </summary>
public sealed record DiskMirrorReady(
    Guid MigrationId,
    long TotalBytes,
    double ElapsedMs,
    DateTimeOffset Timestamp,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
