namespace Orchestrator.Contracts.Workers;

/// <summary>
/// To the source host's worker, before anything is prepared: can this VM move to the target as asked? The worker checks
/// the hypervisor kind, where the VM runs, the target's capacity, and predicts the downtime from the VM's memory size,
/// dirty rate and the bandwidth. <see cref="RequireEncryption"/>: the hosts must hold TLS credentials for the stream.
/// </summary>
public sealed record CheckMigration(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Hypervisor,
    int MaxDowntimeMs,
    int MaxBandwidthMiBps,
    bool AllowPostCopy,
    bool AllowAutoConverge,
    bool RequireEncryption = false) : IWorkerCommand;
