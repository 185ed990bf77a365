using System.Runtime.CompilerServices;
using Marten;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// Which transitions' sessions began their transaction before the commit (to take a lock that must last until it): such
/// a transition commits in that transaction, never in a group (<see cref="GroupCommitter"/>). Marten does not say.
/// </summary>
public static class SessionTransactions
{
    static readonly ConditionalWeakTable<IDocumentSession, object> Began = [];

    /// <summary>Begins <paramref name="session"/>'s transaction (once) and remembers that it did.</summary>
    public static ValueTask Begin(IDocumentSession session, CancellationToken cancellationToken)
    {
        Began.AddOrUpdate(session, Began);
        return session.BeginTransactionAsync(cancellationToken);
    }

    public static bool HasBegun(IDocumentSession session) => Began.TryGetValue(session, out _);
}
