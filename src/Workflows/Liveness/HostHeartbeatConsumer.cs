using Marten;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Liveness;

/// <summary>
/// One write per heartbeat: the liveness of every transfer it names (a worker's, for all its hosts, or one host's from
/// an earlier worker), in one batch, outside any saga.
/// </summary>
public sealed class HostHeartbeatConsumer(IDocumentStore store) : IConsumer<HostHeartbeat>, IConsumer<WorkerHeartbeat>
{
    public Task Consume(ConsumeContext<HostHeartbeat> context) => Write([context.Message], context.CancellationToken);

    public Task Consume(ConsumeContext<WorkerHeartbeat> context) => Write(context.Message.Hosts, context.CancellationToken);

    async Task Write(IReadOnlyList<HostHeartbeat> hosts, CancellationToken cancellationToken)
    {
        // A transfer named twice (a report racing its move to another host) keeps its latest sighting.
        var liveness = hosts.SelectMany(beat => beat.MigrationIds.Select(id => new TransferLiveness { Id = id, Host = beat.Host, SeenAt = beat.Timestamp }))
            .GroupBy(transfer => transfer.Id, (_, sightings) => sightings.MaxBy(transfer => transfer.SeenAt)!).ToArray();
        if (liveness.Length == 0)
            return;
        await using var session = store.LightweightSession();
        session.Store(liveness);
        await session.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>
/// The liveness queue: no inbox (a heartbeat applied twice changes nothing), database outages waited out; a heartbeat
/// older than the one after it is worth nothing, so they are consumed many at a time.
/// </summary>
public sealed class HostHeartbeatDefinition : ConsumerDefinition<HostHeartbeatConsumer>
{
    public HostHeartbeatDefinition() => EndpointName = QueueNames.Liveness;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<HostHeartbeatConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseTransientFaultRetry(context);
    }
}
