namespace Orchestrator.Contracts.Workers;

/// <summary>
/// To the source host's worker: stop iterating and switch the running transfer to post-copy (QEMU:
/// migrate-start-postcopy). From then on neither host alone holds the VM: the transfer can no longer be cancelled.
/// </summary>
public sealed record SwitchToPostCopy(Guid MigrationId, int Epoch, string VmId, string Host) : IWorkerCommand;
