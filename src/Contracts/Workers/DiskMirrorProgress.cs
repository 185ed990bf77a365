namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: how far the disk mirror got, as the hypervisor counts it (QEMU: <c>query-block-jobs</c>'s offset and
/// len over every disk). <see cref="BytesRemaining"/> can grow while the guest writes.
/// </summary>
public sealed record DiskMirrorProgress(
    Guid MigrationId,
    long BytesDone,
    long BytesRemaining,
    DateTimeOffset Timestamp,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
