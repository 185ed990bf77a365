using Marten;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Delivers outbox messages that the transition that wrote them did not get to deliver (the process died after its
/// commit), and forgets inbox records past the dedupe window. Messages younger than a grace period are left to the
/// transition that is delivering them right now. Two instances may both deliver an orphan: every receiver is
/// idempotent (the saga by its inbox, the workers by design), so a second copy changes nothing.
/// </summary>
public sealed class OutboxDispatcher(IDocumentStore store, IBus bus, DeliveredOutboxMessages delivered, ILogger<OutboxDispatcher> logger)
    : BackgroundService
{
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan OrphanInterval = TimeSpan.FromSeconds(1);
    static readonly TimeSpan DedupeWindow = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextOrphanPass = DateTime.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeleteDelivered(stoppingToken);
                if (DateTime.UtcNow >= nextOrphanPass)
                {
                    await DeliverOrphans(stoppingToken);
                    await ForgetOldInboxRecords(stoppingToken);
                    nextOrphanPass = DateTime.UtcNow + OrphanInterval;
                }
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Delivering outbox messages failed; retrying");
                await Task.Delay(Interval, stoppingToken);
            }
        }
    }

    async Task DeleteDelivered(CancellationToken cancellationToken)
    {
        for (var batch = delivered.Take(1000); batch.Count > 0; batch = delivered.Take(1000))
        {
            await using var session = store.LightweightSession();
            var ids = batch.ToArray();
            session.DeleteWhere<OutboxMessage>(m => ids.Contains(m.Id));
            await session.SaveChangesAsync(cancellationToken);
        }
    }

    async Task DeliverOrphans(CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var before = DateTimeOffset.UtcNow - Grace;
        var orphans = await session.Query<OutboxMessage>().Where(m => m.CreatedAt < before).OrderBy(m => m.CreatedAt).Take(200)
            .ToListAsync(cancellationToken);
        foreach (var row in orphans)
        {
            await OutboxMessages.Deliver(row, bus, bus, cancellationToken);
            session.Delete(row);
        }
        if (orphans.Count > 0)
        {
            logger.LogWarning("Delivered {Count} outbox messages left behind by an interrupted transition", orphans.Count);
            await session.SaveChangesAsync(cancellationToken);
        }
    }

    async Task ForgetOldInboxRecords(CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var cutoff = DateTimeOffset.UtcNow - DedupeWindow;
        session.DeleteWhere<InboxRecord>(r => r.ProcessedAt < cutoff);
        await session.SaveChangesAsync(cancellationToken);
    }
}
