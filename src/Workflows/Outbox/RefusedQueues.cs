using System.Collections.Concurrent;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Queues a delivery to which failed lately. A transition leaves its messages for them to the outbox dispatcher (on its
/// own bus, <see cref="IOutboxBus"/>) instead of sending them on the shared channel, until the dispatcher delivers to
/// the queue again: a queue that refuses every message then costs the other migrations nothing.
/// </summary>
public sealed class RefusedQueues
{
    readonly ConcurrentDictionary<string, bool> _queues = new();

    public bool Contains(string? queue) => queue is not null && _queues.ContainsKey(queue);

    public void Failed(string? queue)
    {
        if (queue is not null)
            _queues[queue] = true;
    }

    public void Delivered(string? queue)
    {
        if (queue is not null)
            _queues.TryRemove(queue, out _);
    }
}
