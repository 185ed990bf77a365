using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Every command the migration sends to a worker, one factory each, made from the saga as it stands: its fencing epoch,
/// its hosts and its policy. Where a command goes is said where it is sent (<see cref="MigrationBinderExtensions.SendToWorker"/>).
/// </summary>
public static class WorkerCommands
{
    /// <summary>To the source's worker, once admitted: can this VM move to the target as asked?</summary>
    public static CheckMigration CheckMigration(this MigrationState saga) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Hypervisor,
        saga.Policy.MaxDowntimeMs, saga.Policy.MaxBandwidthMiBps, saga.Policy.AllowPostCopy, saga.Policy.AllowAutoConverge,
        saga.Policy.RequireEncryption);

    /// <summary>To the target's worker: get a destination ready, started from the VM as the source described it.</summary>
    public static PrepareTarget PrepareTarget(this MigrationState saga) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Hypervisor,
        saga.Policy.MultifdChannels, saga.VmDefinition, saga.Policy.RequireEncryption);

    /// <summary>
    /// To the source's worker: move the VM to where the target said its destination listens, starting at the downtime limit
    /// the convergence ramp begins with (<see cref="ConvergenceBinderExtensions.StartConvergence"/> runs first), at most at
    /// its share of the links when admission shares them.
    /// </summary>
    public static BeginTransfer BeginTransfer(this MigrationState saga) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Strategy,
        saga.Convergence!.DowntimeLimitMs,
        saga.LinkShareMiBps is { } share ? Math.Min(share, saga.Policy.MaxBandwidthMiBps) : saga.Policy.MaxBandwidthMiBps,
        saga.Policy.AllowAutoConverge,
        saga.Policy.AllowPostCopy,
        saga.Policy.MultifdChannels,
        saga.Policy.XbzrleCacheMiB,
        saga.IncomingUri,
        saga.Policy.RequireEncryption,
        saga.DiskExportUri,
        saga.Policy.DiskMirrorDeadlineSeconds);

    /// <summary>To the source's worker: change the running transfer's limits; a throttle left null stays as it is.</summary>
    public static AdjustTransfer AdjustTransfer(this MigrationState saga, int maxDowntimeMs, int? throttlePercent = null) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, MaxDowntimeMs: maxDowntimeMs, ThrottlePercent: throttlePercent);

    /// <summary>To the source's worker: the running transfer's max-bandwidth becomes its share of the links (at most the policy's).</summary>
    public static AdjustTransfer ShareBandwidth(this MigrationState saga) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost,
        MaxBandwidthMiBps: Math.Min(saga.LinkShareMiBps ?? saga.Policy.MaxBandwidthMiBps, saga.Policy.MaxBandwidthMiBps));

    /// <summary>To the source's worker: stop iterating and switch the transfer to post-copy.</summary>
    public static SwitchToPostCopy SwitchToPostCopy(this MigrationState saga) => new(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost);

    /// <summary>To the source's worker, after the switchover: remove what is left of the VM there.</summary>
    public static CleanupSource CleanupSource(this MigrationState saga) => new(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost);

    /// <summary>To the source's worker, to roll back: stop the transfer, the VM keeps running there.</summary>
    public static AbortTransfer AbortTransfer(this MigrationState saga) => new(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost);

    /// <summary>To the target's worker, to roll back: remove the destination prepared for the VM.</summary>
    public static DestroyTarget DestroyTarget(this MigrationState saga) => new(saga.CorrelationId, saga.Epoch, saga.VmId, saga.TargetHost);

    /// <summary>To the worker of <paramref name="host"/>: say what its hypervisor knows of the VM now (the truth query).</summary>
    public static LocateVm LocateVm(this MigrationState saga, string host) => new(saga.CorrelationId, saga.Epoch, saga.VmId, host);
}
