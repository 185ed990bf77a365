using Marten;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Liveness;

/// <summary>One write per heartbeat: the liveness of every transfer the host named, in one batch, outside any saga.</summary>
public sealed class HostHeartbeatConsumer(IDocumentStore store) : IConsumer<HostHeartbeat>
{
    public async Task Consume(ConsumeContext<HostHeartbeat> context)
    {
        var beat = context.Message;
        if (beat.MigrationIds.Count == 0)
            return;
        await using var session = store.LightweightSession();
        session.Store(beat.MigrationIds.Distinct().Select(id => new TransferLiveness { Id = id, Host = beat.Host, SeenAt = beat.Timestamp }).ToArray());
        await session.SaveChangesAsync(context.CancellationToken);
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
