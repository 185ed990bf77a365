namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the post-copy link broke (both sides paused) and the worker resumed it on a new connection while both
/// hosts kept their part of the VM. <see cref="Attempts"/> is how many resumes it took, <see cref="PausedMs"/> how long
/// the migration was paused, <see cref="Detail"/> what was done, in the hypervisor's words (for QEMU:
/// <c>migrate-recover</c> on the destination, <c>migrate resume</c> on the source, and the URI).
/// </summary>
public sealed record PostCopyRecovered(
    Guid MigrationId,
    string RunningOn,
    int Attempts,
    double PausedMs,
    string Detail,
    DateTimeOffset Timestamp,
    int? Sequence = null) : IMigrationEvent, ISequencedReport;
