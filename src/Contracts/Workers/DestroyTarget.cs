namespace Orchestrator.Contracts.Workers;

/// <summary>To the target host's worker: remove the destination prepared for the VM.</summary>
public sealed record DestroyTarget(Guid MigrationId, int Epoch, string VmId, string Host) : IWorkerCommand;
