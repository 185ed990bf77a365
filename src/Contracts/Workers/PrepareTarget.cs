namespace Orchestrator.Contracts.Workers;

/// <summary>
/// To the target host's worker: get ready to receive <see cref="VmId"/>. <see cref="MultifdChannels"/> &gt; 0: the
/// transfer will use that many parallel connections, which the destination must expect before it listens.
/// <see cref="VmDefinition"/>: the VM as the source's worker described it in <see cref="PreflightPassed"/>, so the target's
/// worker can start an identical destination without seeing the source host. <see cref="RequireEncryption"/>: the
/// destination accepts only a TLS stream from a source whose certificate its CA signed.
/// </summary>
public sealed record PrepareTarget(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Hypervisor,
    int MultifdChannels = 0,
    string? VmDefinition = null,
    bool RequireEncryption = false) : IWorkerCommand;
