using Marten;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// A saga whose transition leaves work for the last moment before its commit, in the same transaction: work that takes a
/// lock held until the commit (admission's), so that the lock is held for as short a time as the commit allows, not
/// through the rest of the transition.
/// </summary>
public interface IHaveCommitWork
{
    IReadOnlyList<Func<IDocumentSession, CancellationToken, Task>> PendingCommitWork { get; }

    void ClearPendingCommitWork();
}
