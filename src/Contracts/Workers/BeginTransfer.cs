namespace Orchestrator.Contracts.Workers;

/// <summary>
/// To the source host's worker: start moving <see cref="VmId"/> to the prepared target and report every pass,
/// the stop-and-copy and the switchover.
/// </summary>
public sealed record BeginTransfer(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Strategy,
    int MaxDowntimeMs,
    int MaxBandwidthMiBps);
