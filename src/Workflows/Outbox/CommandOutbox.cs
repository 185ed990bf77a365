using Marten;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Commands that enter from outside the bus (the HTTP API) take the road a transition's messages take: stored in the
/// outbox first, then delivered. The caller is answered once the command is stored, never after waiting on a broker
/// that is away: a delivery that does not succeed within <see cref="DeliveryBound"/> is left to
/// <see cref="OutboxDispatcher"/> (of any serve node), which sends it when the broker is back. A command the broker took
/// after its bound may go out twice, both copies with the same message id (the row's).
/// </summary>
public sealed class CommandOutbox(IDocumentStore store, IBus bus, ILogger<CommandOutbox> logger)
{
    public static readonly TimeSpan DeliveryBound = TimeSpan.FromMilliseconds(300);

    public async Task Enqueue(string queue, Guid correlationId, object command, CancellationToken cancellationToken)
    {
        var row = OutboxMessages.Create(correlationId, queue, command);
        await using var session = store.LightweightSession();
        session.Store(row);
        await session.SaveChangesAsync(cancellationToken);

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(DeliveryBound);
        try
        {
            await OutboxMessages.Deliver(row, bus, bus, bounded.Token);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("{Command} for {CorrelationId} is stored; the broker did not take it within {Bound} ms, so the "
                + "outbox delivers it when it can ({Reason})", command.GetType().Name, correlationId, DeliveryBound.TotalMilliseconds,
                exception.GetType().Name);
            return;
        }
        session.Delete(row);
        await session.SaveChangesAsync(cancellationToken);
    }
}
