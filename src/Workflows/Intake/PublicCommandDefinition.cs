using MassTransit;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// A public command endpoint: its queue (and the exchange of the same name) accepts plain JSON bodies from clients that
/// do not use MassTransit as well as MassTransit envelopes. What cannot be read lands in the queue's _error queue.
/// </summary>
public class PublicCommandDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    public PublicCommandDefinition(string queueName) => EndpointName = queueName;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Each public endpoint consumes exactly one message type, so reading any raw JSON body as that type is safe.
        endpointConfigurator.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
        endpointConfigurator.UseFilter(PoisonInputFilter.Create(context));
        endpointConfigurator.UseTransientFaultRetry(context);
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 1000));
    }
}
