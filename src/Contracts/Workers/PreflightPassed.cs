namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the migration can go ahead; the prediction it made from the VM's behaviour. <see cref="VmDefinition"/>:
/// the source hypervisor's description of the VM (QEMU: its <c>vm.json</c>), which the target host's worker starts the
/// destination with; null for hypervisors that need none (sim).
/// </summary>
public sealed record PreflightPassed(Guid MigrationId, long MemoryBytes, double PredictedDowntimeMs, DateTimeOffset Timestamp,
    string? VmDefinition = null) : IMigrationEvent;
