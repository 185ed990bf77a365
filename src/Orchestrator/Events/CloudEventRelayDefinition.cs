using MassTransit;

namespace Orchestrator.Events;

/// <summary>
/// Every relay shares one durable queue, bound to every integration event's exchange, read one message at a time by one
/// consumer of all the serve nodes (RabbitMQ's single active consumer): the CloudEvents leave in the order the events
/// reached the bus. A failed write is tried again in place (the order holds) for about three minutes, then the event is
/// set aside in the queue's _error queue like any other message that cannot be handled.
/// </summary>
public sealed class CloudEventRelayDefinition<T> : ConsumerDefinition<CloudEventRelay<T>>
    where T : class
{
    public const string Queue = "orchestrator.cloud-events";

    public CloudEventRelayDefinition() => EndpointName = Queue;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<CloudEventRelay<T>> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.ConcurrentMessageLimit = 1;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.PrefetchCount = 16;
            rabbit.SingleActiveConsumer = true;
        }
        consumerConfigurator.UseMessageRetry(retry => retry.Exponential(12, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1)));
    }
}
