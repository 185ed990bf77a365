namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the migration can go ahead; the prediction it made from the VM's behaviour. <see cref="VmDefinition"/>:
/// the source hypervisor's description of the VM (QEMU: its <c>vm.json</c>), which the target host's worker starts the
/// destination with; null for hypervisors that need none (sim). <see cref="DiskBytes"/>: the VM's local disks, which move
/// with it (mirrored before the memory), 0 when it has none.
/// </summary>
public sealed record PreflightPassed(Guid MigrationId, long MemoryBytes, double PredictedDowntimeMs, DateTimeOffset Timestamp,
    string? VmDefinition = null, long DiskBytes = 0) : IMigrationEvent;
