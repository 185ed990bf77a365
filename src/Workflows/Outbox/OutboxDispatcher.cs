using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Workflows.Liveness;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Delivers outbox messages that the transition that wrote them did not get to deliver (the process died after its
/// commit), and forgets inbox records past the dedupe window. Messages younger than a grace period are left to the
/// transition that is delivering them right now. Two instances may both deliver an orphan: every receiver is
/// idempotent (the saga by its inbox, the workers by design), so a second copy changes nothing.
/// </summary>
public sealed class OutboxDispatcher(IDocumentStore store, IBusControl bus, IServiceProvider services, DeliveredOutboxMessages delivered,
    QueueStandings queues, ILogger<OutboxDispatcher> logger)
    : BackgroundService
{
    /// <summary>Where orphans go out: the outbox's own bus when there is one, so a poison's channel error touches nothing else.</summary>
    IBus Sender => services.GetService<IOutboxBus>() ?? (IBus)bus;

    static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>A delivery that takes longer has failed: a send that never completes must not stop the dispatcher.</summary>
    static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(3);
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan OrphanInterval = TimeSpan.FromSeconds(1);
    static readonly TimeSpan DedupeWindow = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextOrphanPass = DateTime.UtcNow;
        var faults = new FaultStreak(logger, "Delivering outbox messages");
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
                faults.Succeeded();
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                faults.Failed(exception);
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

    /// <summary>
    /// Each orphan on its own: a message the broker refuses (a poison) is retried with backoff and set aside as a
    /// <see cref="DeadLetter"/> after <see cref="DeliveryFailures.MaxAttempts"/>, logged once, while the others go on;
    /// when the broker itself is away, the pass stops and every message waits for it alike, without counting.
    /// <para>
    /// Which of the two a failure is, the bus's health says, not the exception's type alone: RabbitMQ answers a send to a
    /// queue it refuses by closing the channel, and the sends on it fail as if the broker were gone. A failure while the
    /// bus is healthy is the message's own. Any failure ends the pass: what it took down with it (that shared channel)
    /// must not be counted against the messages behind it, which go in the next pass while the poison waits its backoff.
    /// </para>
    /// </summary>
    async Task DeliverOrphans(CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var now = DateTimeOffset.UtcNow;
        var before = now - Grace;
        var orphans = await session.Query<OutboxMessage>()
            .Where(m => m.CreatedAt < before && (m.NextAttemptAt == null || m.NextAttemptAt <= now))
            .OrderBy(m => m.CreatedAt).Take(200).ToListAsync(cancellationToken);
        var deliveredCount = 0;
        var changed = false;
        var notices = new List<OutboxMessage>();
        foreach (var row in orphans)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(DeliveryTimeout);
                await OutboxMessages.Deliver(row, Sender, Sender, timeout.Token);
                queues.Delivered(row.Queue);
                session.Delete(row);
                deliveredCount++;
                changed = true;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                if (DeliveryFailures.IsTransient(exception) && bus.CheckHealth().Status != BusHealthStatus.Healthy)
                {
                    logger.LogDebug(exception, "The broker is not taking messages; the outbox waits");
                    break;
                }
                changed = true;
                queues.Failed(row.Queue);
                row.Attempts++;
                row.FirstFailedAt ??= now;
                if (row.Attempts < DeliveryFailures.MaxAttempts)
                {
                    // From the failure, not the pass's start: an attempt that timed out must not be due again at once,
                    // first in line in every pass, while the messages behind it wait.
                    row.NextAttemptAt = DateTimeOffset.UtcNow + DeliveryFailures.Backoff(row.Attempts);
                    session.Update(row);
                    logger.LogDebug(exception, "Delivery {Attempts} of message {MessageId} failed; it is tried again later", row.Attempts, row.Id);
                    break;
                }
                var letter = DeliveryFailures.SetAside(row, exception is OperationCanceledException
                    ? new TimeoutException($"Not delivered within {DeliveryTimeout.TotalSeconds:0} s while the broker took other messages: "
                        + $"RabbitMQ refuses this message or its queue {row.Queue}.")
                    : exception, now);
                session.Delete(row);
                session.Store(letter);
                // The migration learns it in the same transaction: it ends (or goes on) with the reason, not by a timeout.
                if (DeadLetterNotices.For(letter) is { } notice)
                {
                    session.Store(notice);
                    notices.Add(notice);
                }
                DeadLetterMetrics.Count(letter.Source);
                logger.LogWarning("Set aside message {MessageId} of migration {MigrationId} ({MessageType}) after {Attempts} failed deliveries: {Reason}",
                    letter.Id, letter.MigrationId, DeadLetterNotices.ShortName(letter.MessageType), letter.Attempts, letter.Reason);
                break;
            }
        }
        if (deliveredCount > 0)
            logger.LogWarning("Delivered {Count} outbox messages left behind by an interrupted transition", deliveredCount);
        if (changed)
            await session.SaveChangesAsync(cancellationToken);
        await DeliverNow(notices, cancellationToken);
    }

    /// <summary>Delivers just-committed rows at once, as a transition does; one that fails is left to the next orphan pass.</summary>
    async Task DeliverNow(IReadOnlyList<OutboxMessage> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            try
            {
                await OutboxMessages.Deliver(row, Sender, Sender, cancellationToken);
                delivered.Add(row.Id);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug(exception, "A dead letter's notice to its migration waits for the next pass");
            }
        }
    }

    async Task ForgetOldInboxRecords(CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var cutoff = DateTimeOffset.UtcNow - DedupeWindow;
        session.DeleteWhere<InboxRecord>(r => r.ProcessedAt < cutoff);
        session.DeleteWhere<TransferLiveness>(l => l.SeenAt < cutoff);
        await session.SaveChangesAsync(cancellationToken);
    }
}
