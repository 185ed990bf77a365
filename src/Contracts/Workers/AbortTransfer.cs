namespace Orchestrator.Contracts.Workers;

/// <summary>To the source host's worker: stop the transfer; the VM must keep running on the source.</summary>
public sealed record AbortTransfer(Guid MigrationId, int Epoch, string VmId, string Host) : IWorkerCommand;
