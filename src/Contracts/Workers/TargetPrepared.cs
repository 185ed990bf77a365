namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the destination on <see cref="Host"/> waits for the incoming migration. <see cref="IncomingUri"/>: where
/// it listens for the migration stream (QEMU: <c>tcp:ADDRESS:PORT</c>), an address the source host can reach; the
/// workflow passes it to the source in <see cref="BeginTransfer"/>. Null for hypervisors that need none (sim).
/// <see cref="DiskExportUri"/>: where the target exports the VM's empty disks for the source to mirror into (QEMU:
/// <c>nbd://ADDRESS:PORT</c>, one export per disk named by its id); null when the VM has no local disk.
/// </summary>
public sealed record TargetPrepared(Guid MigrationId, string Host, int Epoch, DateTimeOffset Timestamp, string? IncomingUri = null,
    string? DiskExportUri = null) : IMigrationEvent;
