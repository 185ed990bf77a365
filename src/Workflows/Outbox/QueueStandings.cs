using System.Collections.Concurrent;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// What this process knows of each queue it sends to. RabbitMQ answers a send to a queue it refuses (declared by someone
/// with other settings) by closing the channel the send came on, and every other send in flight on that channel fails
/// with it. So the shared channel every transition sends on only ever meets queues that took a message already:
/// <list type="bullet">
/// <item>a queue not yet delivered to gets its first message on the outbox's own bus (<see cref="IOutboxBus"/>), where a
/// refusal costs no other migration anything;</item>
/// <item>a queue to which a delivery failed lately is left to the outbox dispatcher, on that bus too, until it takes a
/// message again.</item>
/// </list>
/// </summary>
public sealed class QueueStandings
{
    readonly ConcurrentDictionary<string, bool> _refused = new();
    readonly ConcurrentDictionary<string, bool> _proven = new();

    /// <summary>A delivery to this queue failed lately: the outbox dispatcher delivers its messages.</summary>
    public bool IsRefused(string? queue) => queue is not null && _refused.ContainsKey(queue);

    /// <summary>This queue took a message: the shared channel may send to it. A publish (no queue) goes to an exchange the bus declared itself.</summary>
    public bool IsProven(string? queue) => queue is null || _proven.ContainsKey(queue);

    public void Failed(string? queue)
    {
        if (queue is not null)
            _refused[queue] = true;
    }

    public void Delivered(string? queue)
    {
        if (queue is null)
            return;
        // Every transition's delivery lands here: no write once the queue is known.
        if (!_proven.ContainsKey(queue))
            _proven[queue] = true;
        if (!_refused.IsEmpty)
            _refused.TryRemove(queue, out _);
    }
}
