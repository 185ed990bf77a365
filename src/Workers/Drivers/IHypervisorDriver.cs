using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workers.Drivers;

/// <summary>
/// What a migration needs from a hypervisor. One implementation per hypervisor kind; the consumers call it and report
/// the outcomes. Methods throw <see cref="HypervisorStepException"/> (or anything else) when a step cannot be done.
/// </summary>
public interface IHypervisorDriver
{
    /// <summary>The hypervisor kind this driver serves (<c>sim</c>, <c>qemu</c>).</summary>
    string Kind { get; }

    /// <summary>Checks, before anything is done, that the migration can go ahead as asked; predicts its downtime.</summary>
    Task<PreflightResult> PreflightAsync(CheckMigration command, CancellationToken cancellationToken);

    /// <summary>
    /// Gets the target host ready to receive the VM and says where its destination listens. Idempotent: a second call for
    /// the same migration changes nothing and returns the same answer.
    /// </summary>
    Task<TargetPreparation> PrepareTargetAsync(PrepareTarget command, CancellationToken cancellationToken);

    /// <summary>Moves the VM to the prepared target, reporting every pass, the stop-and-copy and the switchover.</summary>
    Task MigrateAsync(BeginTransfer command, ITransferObserver observer, CancellationToken cancellationToken);

    /// <summary>Changes a running transfer's limits (downtime, bandwidth, vCPU throttle). Ignored when no transfer runs.</summary>
    Task AdjustAsync(AdjustTransfer command, CancellationToken cancellationToken);

    /// <summary>Switches a running pre-copy to post-copy. Throws when the transfer cannot switch.</summary>
    Task SwitchToPostCopyAsync(SwitchToPostCopy command, CancellationToken cancellationToken);

    /// <summary>Stops a transfer under way; the VM must keep running on the source. Idempotent.</summary>
    Task AbortAsync(AbortTransfer command, CancellationToken cancellationToken);

    /// <summary>Removes the destination prepared on the target host. Idempotent.</summary>
    Task DestroyTargetAsync(DestroyTarget command, CancellationToken cancellationToken);

    /// <summary>Removes what is left of the VM on the source host after switchover. Idempotent.</summary>
    Task CleanupSourceAsync(CleanupSource command, CancellationToken cancellationToken);

    /// <summary>Where the VM runs now, as the hypervisors see it; null when no host runs it.</summary>
    Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>
    /// The destination's part of a post-copy recovery, asked by the source's worker: make the destination listen for the
    /// resumed stream and say where. Drivers without post-copy recovery answer with the problem.
    /// </summary>
    Task<PostCopyRecoveryListening> ListenForPostCopyRecoveryAsync(ListenForPostCopyRecovery command, CancellationToken cancellationToken) =>
        Task.FromResult(new PostCopyRecoveryListening(command.MigrationId, null, $"The {Kind} driver has no post-copy recovery."));

    /// <summary>What runs on <paramref name="host"/> and how much room it has, for a drain. Drivers that can tell override it.</summary>
    Task<HostDescription> DescribeHostAsync(string host, CancellationToken cancellationToken) =>
        throw new HostDescriptionNotSupportedException(Kind);

    /// <summary>
    /// What <paramref name="host"/>'s hypervisor knows of the VM now (one of <see cref="Contracts.VmPresences"/>), with its own
    /// words as the detail: the truth query of a recovery. Drivers that can tell more than running or absent override it.
    /// </summary>
    async Task<VmInspection> InspectAsync(string vmId, string host, CancellationToken cancellationToken)
    {
        var runningOn = await WhereIsAsync(vmId, cancellationToken);
        return runningOn == host
            ? new VmInspection(Contracts.VmPresences.Running, $"{Kind} reports VM '{vmId}' running on {host}")
            : new VmInspection(Contracts.VmPresences.Absent, runningOn is null
                ? $"{Kind} reports VM '{vmId}' running on no host"
                : $"{Kind} reports VM '{vmId}' running on {runningOn}, not on {host}");
    }
}

/// <summary>A hypervisor that cannot list what runs on a host (a drain needs it).</summary>
public sealed class HostDescriptionNotSupportedException(string kind)
    : NotSupportedException($"The {kind} driver cannot list the VMs of a host, so its hosts cannot be drained.");

/// <summary>A hypervisor's answer about one VM on one host: its presence and the hypervisor's own words.</summary>
public sealed record VmInspection(string Presence, string Detail);
