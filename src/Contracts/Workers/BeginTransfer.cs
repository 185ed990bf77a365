namespace Orchestrator.Contracts.Workers;

/// <summary>
/// To the source host's worker: start moving <see cref="VmId"/> to the prepared target and report every pass,
/// the stop-and-copy and the switchover. <see cref="Strategy"/> <c>postcopy</c> switches to post-copy right after the
/// first pass; the others iterate until the rest fits the downtime limit, and the orchestrator adjusts them on the way.
/// <see cref="MultifdChannels"/> and <see cref="XbzrleCacheMiB"/> (0: off) come from the policy. <see cref="IncomingUri"/>
/// is where the target's destination listens, as its worker reported it in <see cref="TargetPrepared"/>.
/// <see cref="RequireEncryption"/>: the stream goes over TLS, the target's certificate checked against its host name.
/// <see cref="DiskExportUri"/>: where the target exports the VM's disks (<see cref="TargetPrepared.DiskExportUri"/>); the
/// source mirrors them there first, and gives up, the VM still on the source, when they are not ready within
/// <see cref="DiskMirrorDeadlineSeconds"/> (0: no deadline).
/// </summary>
public sealed record BeginTransfer(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Strategy,
    int MaxDowntimeMs,
    int MaxBandwidthMiBps,
    bool AllowAutoConverge = false,
    bool AllowPostCopy = false,
    int MultifdChannels = 0,
    int XbzrleCacheMiB = 0,
    string? IncomingUri = null,
    bool RequireEncryption = false,
    string? DiskExportUri = null,
    int DiskMirrorDeadlineSeconds = 0) : IWorkerCommand;
