namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// A saga that records the events of the transition being applied. The Marten saga repository appends them to the
/// saga's stream in the same transaction that stores the saga's new state.
/// </summary>
public interface IRecordEvents
{
    IReadOnlyList<object> PendingEvents { get; }

    void ClearPendingEvents();

    /// <summary>Called once the transaction holding <paramref name="events"/> has committed (metrics count only what is stored).</summary>
    void Committed(IReadOnlyList<object> events)
    {
    }
}
