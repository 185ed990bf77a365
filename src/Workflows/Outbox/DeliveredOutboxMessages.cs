using System.Collections.Concurrent;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Outbox rows delivered right after their commit, waiting to be deleted in one batch by <see cref="OutboxDispatcher"/>
/// instead of one more transaction per step. A crash before the batch runs leaves them to be delivered again, which
/// every receiver shrugs off (the saga's inbox, idempotent workers).
/// </summary>
public sealed class DeliveredOutboxMessages
{
    readonly ConcurrentQueue<Guid> _delivered = new();

    public void Add(Guid id) => _delivered.Enqueue(id);

    public IReadOnlyList<Guid> Take(int max)
    {
        var taken = new List<Guid>();
        while (taken.Count < max && _delivered.TryDequeue(out var id))
            taken.Add(id);
        return taken;
    }
}
