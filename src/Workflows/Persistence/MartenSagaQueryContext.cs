using Marten;
using MassTransit;
using MassTransit.Middleware;
using MassTransit.Saga;

namespace Orchestrator.Workflows.Persistence;

/// <summary>Reads sagas outside a consumed message (the test harness's Exists/Match, operators' tools).</summary>
public sealed class MartenSagaQueryContext<TSaga>(IQuerySession session, CancellationToken cancellationToken)
    : BasePipeContext(cancellationToken), LoadSagaRepositoryContext<TSaga>, QuerySagaRepositoryContext<TSaga>
    where TSaga : class, ISaga
{
    public Task<TSaga> Load(Guid correlationId) => session.LoadAsync<TSaga>(correlationId, CancellationToken)!;

    public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken = default)
    {
        var instances = await session.Query<TSaga>().Where(query.FilterExpression).ToListAsync(cancellationToken);
        return new LoadedSagaRepositoryQueryContext<TSaga>(this, instances);
    }
}
