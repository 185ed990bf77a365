namespace Orchestrator.ReadModels.Audit;

/// <summary>A history that could not be read back because it was altered: the verdict names the first bad event.</summary>
public sealed class TamperedHistoryException(ChainVerdict verdict, Exception inner)
    : Exception($"the history of {verdict.StreamId} cannot be replayed: at event {verdict.FirstBrokenVersion}, {verdict.Problem}", inner)
{
    public ChainVerdict Verdict { get; } = verdict;
}
