namespace Orchestrator.Contracts.Workers;

/// <summary>To the target host's worker: get ready to receive <see cref="VmId"/>.</summary>
public sealed record PrepareTarget(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Hypervisor) : IWorkerCommand;
