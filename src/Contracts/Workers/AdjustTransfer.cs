namespace Orchestrator.Contracts.Workers;

/// <summary>
/// To the source host's worker: change a running pre-copy's limits (QEMU: migrate-set-parameters). Null members stay
/// as they are. <see cref="ThrottlePercent"/> slows the guest's vCPUs (auto-converge) to lower its dirty rate.
/// </summary>
public sealed record AdjustTransfer(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string Host,
    int? MaxDowntimeMs = null,
    int? MaxBandwidthMiBps = null,
    int? ThrottlePercent = null) : IWorkerCommand;
