namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the source began mirroring the VM's local disks to the target while the VM runs (QEMU:
/// <c>blockdev-mirror</c> into the target's NBD export, writes copied to both sides as they happen).
/// <see cref="Disks"/> is how many, <see cref="TotalBytes"/> their size together. The memory transfer starts once every
/// mirror is ready, and its switchover completes the mirrors.
/// </summary>
public sealed record DiskMirrorStarted(
    Guid MigrationId,
    int Disks,
    long TotalBytes,
    DateTimeOffset Timestamp,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
