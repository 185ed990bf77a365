namespace Orchestrator.Contracts.Workers;

/// <summary>
/// A report of a transfer, numbered in the order its worker produced it (1, 2, 3, … per transfer): the saga records a
/// migration's reports in that order even when several instances, retries or a redelivery apply them out of it. Null
/// from workers of earlier releases, whose reports are taken as they come.
/// </summary>
public interface ISequencedReport
{
    int? Sequence { get; }
}
