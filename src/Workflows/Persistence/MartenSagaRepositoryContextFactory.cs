using Marten;
using MassTransit;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// MassTransit's plug-in point for saga persistence, on Marten. Resolved per message scope, so it shares the scope's
/// <see cref="IDocumentSession"/> with every activity of the transition.
/// </summary>
public sealed class MartenSagaRepositoryContextFactory<TSaga>(
    IDocumentSession session,
    IDocumentStore store,
    ISagaConsumeContextFactory<IDocumentSession, TSaga> factory,
    DeliveredOutboxMessages delivered,
    QueueStandings queues,
    IBus bus,
    IServiceProvider services,
    GroupCommitter committer)
    : ISagaRepositoryContextFactory<TSaga>, ILoadSagaRepositoryContextFactory<TSaga>, IQuerySagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISaga
{
    /// <summary>Where the first message to a queue goes (see <see cref="QueueStandings"/>): the outbox's own bus, when there is one.</summary>
    readonly IBus _outboxBus = services.GetService<IOutboxBus>() ?? bus;

    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class
    {
        // No transaction yet: the reads need none, and a transition whose writes join a group commit never opens one of
        // its own (the repository context opens it for a commit alone).
        var startedAt = TransitionMetrics.Start();
        // The inbox check and the saga's load in one round trip. A message this saga already applied (a redelivery
        // after a crash, a duplicate) changes nothing.
        TSaga? prefetched = null;
        if (context.MessageId is { } messageId)
        {
            var batch = session.CreateBatchQuery();
            var inbox = batch.Load<InboxRecord>(messageId.ToString());
            var saga = context.CorrelationId is { } correlationId ? batch.Load<TSaga>(correlationId) : null;
            await batch.Execute(context.CancellationToken);
            if (await inbox is not null)
                return;
            prefetched = saga is null ? null : await saga;
        }
        TransitionMetrics.Record("read", startedAt);
        var metadata = TransitionMetadata.Of(context);
        metadata.ApplyTo(session);
        try
        {
            await next.Send(new MartenSagaRepositoryContext<TSaga, T>(session, context, factory, delivered, queues, bus, _outboxBus, committer, metadata, prefetched));
        }
        catch (Exception exception) when (RefusedTransactions.IsRefusedByTheDatabase(exception))
        {
            // Before this session gives its connection back, so that it is closed rather than reused (the retry, or
            // another migration's message, would read what the refused batch left behind).
            RefusedTransactions.DiscardConnections(store);
            throw;
        }
        TransitionMetrics.RecordApplied(startedAt);
    }

    public async Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class
    {
        var metadata = TransitionMetadata.Of(context);
        metadata.ApplyTo(session);
        var repositoryContext = new MartenSagaRepositoryContext<TSaga, T>(session, context, factory, delivered, queues, bus, _outboxBus, committer, metadata);
        var instances = await session.Query<TSaga>().Where(query.FilterExpression).ToListAsync(context.CancellationToken);
        await next.Send(new LoadedSagaRepositoryQueryContext<TSaga, T>(repositoryContext, instances));
    }

    public async Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class
    {
        await using var querySession = store.QuerySession();
        return await asyncMethod(new MartenSagaQueryContext<TSaga>(querySession, cancellationToken));
    }

    public async Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class
    {
        await using var querySession = store.QuerySession();
        return await asyncMethod(new MartenSagaQueryContext<TSaga>(querySession, cancellationToken));
    }

    public void Probe(ProbeContext context) => context.Add("persistence", "marten");
}
