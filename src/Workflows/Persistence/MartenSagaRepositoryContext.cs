using JasperFx;
using Marten;
using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// The saga repository's view of one consumed message: loads and stores the saga through the message scope's
/// <see cref="IDocumentSession"/>, so the saga document, the events it recorded and anything else the transition staged
/// on that session (leases, …) commit in one PostgreSQL transaction.
/// </summary>
public sealed class MartenSagaRepositoryContext<TSaga, TMessage>(
    IDocumentSession session,
    ConsumeContext<TMessage> consumeContext,
    ISagaConsumeContextFactory<IDocumentSession, TSaga> factory,
    DeliveredOutboxMessages delivered,
    RefusedQueues refused,
    IBus bus,
    TSaga? prefetched = null)
    : ConsumeContextScope<TMessage>(consumeContext, session), SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISaga
    where TMessage : class
{
    /// <summary>How long the messages of a committed transition may take to go out before the outbox dispatcher takes them over.</summary>
    static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(5);

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        factory.CreateSagaConsumeContext(session, consumeContext, instance, mode);

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        factory.CreateSagaConsumeContext(session, this, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        try
        {
            session.Insert(instance);
            await session.SaveChangesAsync(CancellationToken);
            return await factory.CreateSagaConsumeContext(session, this, instance, SagaConsumeContextMode.Insert);
        }
        catch (DocumentAlreadyExistsException)
        {
            // Another delivery created it first; MassTransit goes on to load the existing instance.
            return default!;
        }
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        // The instance read with the inbox check, when it is the one asked for.
        var instance = prefetched?.CorrelationId == correlationId ? prefetched : await session.LoadAsync<TSaga>(correlationId, CancellationToken);
        return instance is null
            ? default!
            : await factory.CreateSagaConsumeContext(session, this, instance, SagaConsumeContextMode.Load);
    }

    public Task Save(SagaConsumeContext<TSaga> context)
    {
        // Insert, not Store: a racing duplicate of the initial message fails here and retries into the load path.
        session.Insert(context.Saga);
        return Commit(context.Saga);
    }

    public Task Update(SagaConsumeContext<TSaga> context)
    {
        session.Update(context.Saga);
        return Commit(context.Saga);
    }

    public Task Delete(SagaConsumeContext<TSaga> context)
    {
        session.Delete(context.Saga);
        return Commit(context.Saga);
    }

    public Task Discard(SagaConsumeContext<TSaga> context)
    {
        if (context.Saga is IRecordEvents recorder)
            recorder.ClearPendingEvents();
        if (context.Saga is IHaveTimers timers)
            timers.ClearPendingTimers();
        if (context.Saga is IHaveOutgoingMessages outbox)
            outbox.ClearPendingMessages();
        if (context.Saga is IHaveCommitWork work)
            work.ClearPendingCommitWork();
        return Task.CompletedTask;
    }

    public Task Undo(SagaConsumeContext<TSaga> context)
    {
        session.Eject(context.Saga);
        return Discard(context);
    }

    /// <summary>
    /// One transaction: the work the transition left for its commit, the saga's new state, the events it recorded, its
    /// timers, its outgoing messages and the inbox
    /// record of the message applied. Then the outgoing messages are delivered (their rows are deleted in batches); a
    /// crash in between leaves them for the outbox dispatcher, and the redelivered input finds the inbox record.
    /// </summary>
    async Task Commit(TSaga saga)
    {
        // First the work left for the commit (it may record, send or take a lock until the commit): then staged with the rest.
        if (saga is IHaveCommitWork { PendingCommitWork.Count: > 0 } work)
        {
            var pending = work.PendingCommitWork.ToList();
            work.ClearPendingCommitWork();
            foreach (var step in pending)
                await step(session, CancellationToken);
        }
        object[] recorded = [];
        if (saga is IRecordEvents { PendingEvents.Count: > 0 } recorder)
        {
            recorded = [.. recorder.PendingEvents];
            session.Events.Append(saga.CorrelationId, recorded);
            recorder.ClearPendingEvents();
        }
        if (saga is IHaveTimers timers)
        {
            foreach (var (id, timer) in timers.PendingTimers)
            {
                if (timer is null)
                    session.Delete<MigrationTimer>(id);
                else
                    session.Store(timer);
            }
            timers.ClearPendingTimers();
        }
        IReadOnlyList<OutboxMessage> outgoing = [];
        if (saga is IHaveOutgoingMessages outbox)
        {
            outgoing = [.. outbox.PendingMessages];
            outbox.ClearPendingMessages();
            foreach (var message in outgoing)
                session.Store(message);
        }
        if (MessageId is { } messageId)
            session.Insert(new InboxRecord { Id = messageId.ToString(), ProcessedAt = DateTimeOffset.UtcNow });

        var startedAt = TransitionMetrics.Start();
        await session.SaveChangesAsync(CancellationToken);
        TransitionMetrics.Record("commit", startedAt);
        (saga as IRecordEvents)?.Committed(recorded);

        startedAt = TransitionMetrics.Start();
        // Bounded: a send to a queue RabbitMQ refuses is retried by MassTransit until cancelled, and this input's
        // partition (other migrations too) would wait behind it.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
        timeout.CancelAfter(DeliveryTimeout);
        foreach (var message in outgoing)
        {
            if (timeout.IsCancellationRequested)
                break;
            // A queue that refused a message lately: the dispatcher delivers it, on a bus of its own.
            if (refused.Contains(message.Queue))
                continue;
            try
            {
                // Through the bus, not this consume context: a send made through the context is awaited with the input, and
                // one that failed (a poison, or the channel it took down) would fault the input after its commit.
                await OutboxMessages.Deliver(message, bus, bus, timeout.Token);
            }
            catch (Exception) when (!CancellationToken.IsCancellationRequested)
            {
                refused.Failed(message.Queue);
                // The transition is committed and its message stored: the outbox dispatcher delivers it, or sets it
                // aside as a poison after bounded attempts. The input is done; the other messages still go now.
                continue;
            }
            delivered.Add(message.Id);
            if (message == outgoing[0])
                TransitionMetrics.Record("deliver", startedAt);
        }
    }
}
