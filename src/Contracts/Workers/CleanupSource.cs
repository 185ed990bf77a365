namespace Orchestrator.Contracts.Workers;

/// <summary>To the source host's worker: remove what is left of the VM after switchover.</summary>
public sealed record CleanupSource(Guid MigrationId, int Epoch, string VmId, string Host) : IWorkerCommand;
