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
    QueueStandings queues,
    IBus bus,
    IBus outboxBus,
    GroupCommitter committer,
    TransitionMetadata metadata,
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

    public Task Save(SagaConsumeContext<TSaga> context) =>
        // Insert, not Store: a racing duplicate of the initial message fails here and retries into the load path.
        CommitAlone(context.Saga, () => session.Insert(context.Saga));

    public Task Update(SagaConsumeContext<TSaga> context) =>
        CanJoinAGroup(context.Saga) is { } version
            ? CommitInGroup(context.Saga, version)
            : CommitAlone(context.Saga, () => session.Update(context.Saga));

    public Task Delete(SagaConsumeContext<TSaga> context) => CommitAlone(context.Saga, () => session.Delete(context.Saga));

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
    /// The saga's expected version when this transition's writes can join a group commit (<see cref="GroupCommitter"/>):
    /// it left no work for its commit, began no transaction (the admission lock) and staged nothing on the session itself
    /// (an admission decision, a lease, a learnt behaviour: those commit in the transaction that took their lock or read
    /// their state, alone); else null.
    /// </summary>
    Guid? CanJoinAGroup(TSaga saga) =>
        committer.Enabled
        && saga is not IHaveCommitWork { PendingCommitWork.Count: > 0 }
        && !SessionTransactions.HasBegun(session)
        && !session.PendingChanges.Operations().Any() && !session.PendingChanges.Streams().Any()
            ? session.VersionFor(saga)
            : null;

    /// <summary>
    /// One transaction of this session's own: the work the transition left for its commit, the saga's new state
    /// (<paramref name="stageSaga"/>), the events it recorded, its timers, its outgoing messages and the inbox record of
    /// the message applied; then <see cref="Deliver"/>.
    /// </summary>
    async Task CommitAlone(TSaga saga, Action stageSaga)
    {
        await session.BeginTransactionAsync(CancellationToken);
        // First the work left for the commit (it may record, send or take a lock until the commit): then staged with the rest.
        if (saga is IHaveCommitWork { PendingCommitWork.Count: > 0 } work)
        {
            var pending = work.PendingCommitWork.ToList();
            work.ClearPendingCommitWork();
            foreach (var step in pending)
                await step(session, CancellationToken);
        }
        stageSaga();
        var writes = TakeWrites(saga);
        writes.StageOn(session);

        var startedAt = TransitionMetrics.Start();
        await session.SaveChangesAsync(CancellationToken);
        TransitionMetrics.Record("commit", startedAt);
        await Committed(saga, writes);
    }

    /// <summary>
    /// The same writes, the saga's under the version it was read at, in a transaction shared with other migrations'
    /// transitions ready at the same moment; this input is done (and acknowledged) only once that transaction committed.
    /// </summary>
    async Task CommitInGroup(TSaga saga, Guid version)
    {
        var writes = TakeWrites(saga);
        var startedAt = TransitionMetrics.Start();
        await committer.Commit(group =>
        {
            group.UpdateExpectedVersion(saga, version);
            writes.StageOn(group);
        }).WaitAsync(CancellationToken);
        TransitionMetrics.Record("commit", startedAt);
        await Committed(saga, writes);
    }

    /// <summary>What the transition left to write besides the saga itself, taken off the saga.</summary>
    Writes TakeWrites(TSaga saga)
    {
        object[] recorded = [];
        if (saga is IRecordEvents { PendingEvents.Count: > 0 } recorder)
        {
            recorded = [.. recorder.PendingEvents];
            recorder.ClearPendingEvents();
        }
        (string Id, MigrationTimer? Timer)[] timerChanges = [];
        if (saga is IHaveTimers timers)
        {
            timerChanges = [.. timers.PendingTimers];
            timers.ClearPendingTimers();
        }
        OutboxMessage[] outgoing = [];
        if (saga is IHaveOutgoingMessages outbox)
        {
            outgoing = [.. outbox.PendingMessages];
            outbox.ClearPendingMessages();
        }
        return new Writes(saga.CorrelationId, recorded, timerChanges, outgoing, MessageId?.ToString(), metadata);
    }

    sealed record Writes(Guid StreamId, object[] Recorded, (string Id, MigrationTimer? Timer)[] Timers, OutboxMessage[] Outgoing,
        string? InboxId, TransitionMetadata Metadata)
    {
        /// <summary>
        /// On <paramref name="target"/>: this transition's own session, or one that other transitions share (a group
        /// commit), whose session-wide metadata is no one's: so each event carries this transition's metadata itself.
        /// </summary>
        public void StageOn(IDocumentSession target)
        {
            if (Recorded.Length > 0)
                foreach (var e in target.Events.Append(StreamId, Recorded).Events)
                    Metadata.ApplyTo(e);
            foreach (var (id, timer) in Timers)
            {
                if (timer is null)
                    target.Delete<MigrationTimer>(id);
                else
                    target.Store(timer);
            }
            foreach (var message in Outgoing)
                target.Store(message);
            if (InboxId is not null)
                target.Insert(new InboxRecord { Id = InboxId, ProcessedAt = DateTimeOffset.UtcNow });
        }
    }

    /// <summary>
    /// After the commit: the saga told which events it holds now, and the outgoing messages delivered (their rows are
    /// deleted in batches). A crash in between leaves them for the outbox dispatcher, and the redelivered input finds the
    /// inbox record.
    /// </summary>
    async Task Committed(TSaga saga, Writes writes)
    {
        (saga as IRecordEvents)?.Committed(writes.Recorded);
        await Deliver(writes.Outgoing);
    }

    async Task Deliver(OutboxMessage[] outgoing)
    {
        if (outgoing.Length == 0)
            return;
        var startedAt = TransitionMetrics.Start();
        // Bounded: a send to a queue RabbitMQ refuses is retried by MassTransit until cancelled, and this input's
        // partition (other migrations too) would wait behind it.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
        timeout.CancelAfter(DeliveryTimeout);
        foreach (var message in outgoing)
        {
            if (timeout.IsCancellationRequested)
                break;
            // A queue that refused a message lately: the dispatcher delivers it, on a bus of its own.
            if (queues.IsRefused(message.Queue))
                continue;
            // Through a bus, not this consume context: a send made through the context is awaited with the input, and one
            // that failed (a poison, or the channel it took down) would fault the input after its commit. The shared
            // channel only to a queue that took a message already; a queue's first message on the outbox's own bus.
            var sender = queues.IsProven(message.Queue) ? bus : outboxBus;
            try
            {
                await OutboxMessages.Deliver(message, sender, sender, timeout.Token);
                queues.Delivered(message.Queue);
            }
            catch (Exception) when (!CancellationToken.IsCancellationRequested)
            {
                queues.Failed(message.Queue);
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
