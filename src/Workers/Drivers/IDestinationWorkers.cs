using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workers.Drivers;

/// <summary>
/// The workers of other hosts, as a source's worker needs them during a transfer: in production each host has its own
/// worker, so what must happen on the destination's QEMU is asked of the destination host's worker.
/// </summary>
public interface IDestinationWorkers
{
    /// <summary>
    /// Asks the worker of <see cref="ListenForPostCopyRecovery.TargetHost"/> to make the destination listen for a
    /// resumed post-copy. Throws <see cref="TimeoutException"/> when no answer comes in time.
    /// </summary>
    Task<PostCopyRecoveryListening> ListenForPostCopyRecoveryAsync(ListenForPostCopyRecovery command, CancellationToken cancellationToken);
}
