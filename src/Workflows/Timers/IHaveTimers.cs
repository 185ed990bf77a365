namespace Orchestrator.Workflows.Timers;

/// <summary>
/// A saga that arms and disarms durable timers during a transition. The Marten saga repository stores or deletes them
/// in the transaction that stores the saga's new state.
/// </summary>
public interface IHaveTimers
{
    /// <summary>Timers to store (armed) and, with <c>null</c>, the ids of timers to delete (disarmed).</summary>
    IReadOnlyList<(string Id, MigrationTimer? Timer)> PendingTimers { get; }

    void ClearPendingTimers();
}
