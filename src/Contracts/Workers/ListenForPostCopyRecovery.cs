namespace Orchestrator.Contracts.Workers;

/// <summary>
/// A request from the source host's worker to the target host's worker when a post-copy's link broke and both QEMUs
/// paused: get the destination to listen for the resumed stream (QEMU's <c>migrate-recover</c>) and say where. The
/// destination is waited for up to <see cref="WaitMs"/> to see the break itself. <see cref="PreviousUri"/>: where an
/// earlier attempt of the same recovery made it listen, to be used again when QEMU says a recovery listens already.
/// Answered with <see cref="PostCopyRecoveryListening"/>.
/// </summary>
public sealed record ListenForPostCopyRecovery(
    Guid MigrationId,
    int Epoch,
    string VmId,
    string TargetHost,
    int WaitMs,
    string? PreviousUri = null) : IWorkerCommand;

/// <summary>
/// The target worker's answer: the URI the destination listens on for the resumed stream, or, when it could not be
/// made to listen, <see cref="Problem"/> says why (<see cref="DestinationGone"/>: its QEMU is not running any more, so
/// no attempt can succeed). <see cref="Note"/>: what happened on the way (an earlier listener reused).
/// </summary>
public sealed record PostCopyRecoveryListening(Guid MigrationId, string? Uri, string? Problem = null, string? Note = null,
    bool DestinationGone = false);
