namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: the VM was paused, the rest of its memory and its CPU state copied.</summary>
public sealed record StopAndCopyCompleted(Guid MigrationId, double DowntimeMs, long BytesTransferred, DateTimeOffset Timestamp, int? Sequence = null) : IMigrationEvent, ISequencedReport;
