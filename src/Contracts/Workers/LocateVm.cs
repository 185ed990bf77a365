namespace Orchestrator.Contracts.Workers;

/// <summary>To a host's worker: say what your hypervisor knows of the VM now (the truth query of a recovery).</summary>
public sealed record LocateVm(Guid MigrationId, int Epoch, string VmId, string Host) : IWorkerCommand;
