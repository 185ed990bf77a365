namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the VM resumed on <see cref="RunningOn"/> and pulls its remaining pages from the source on demand.
/// Neither host alone holds the VM until <see cref="PostCopyCompleted"/>.
/// </summary>
public sealed record PostCopyStarted(Guid MigrationId, string RunningOn, long BytesRemaining, DateTimeOffset Timestamp, int? Sequence = null) : IMigrationEvent, ISequencedReport;
