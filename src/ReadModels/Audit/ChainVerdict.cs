namespace Orchestrator.ReadModels.Audit;

/// <summary>The result of re-computing a stream's hash chain: intact, or the first event where it breaks and how.</summary>
public sealed record ChainVerdict(Guid StreamId, int Events, bool Intact, long? FirstBrokenVersion, string? Problem)
{
    public static ChainVerdict Clean(Guid streamId, int events) => new(streamId, events, true, null, null);
}
