using MassTransit;
using MassTransit.Serialization;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// A public command endpoint: its queue (and the exchange of the same name) accepts plain JSON bodies from clients that
/// do not use MassTransit as well as MassTransit envelopes, held to the HTTP API's rules (<see cref="PublicCommandBody"/>).
/// What cannot be read lands in the queue's _error queue, at once, with the reason.
/// </summary>
public class PublicCommandDefinition<TConsumer, TMessage> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer<TMessage>
    where TMessage : class
{
    public PublicCommandDefinition(string queueName) => EndpointName = queueName;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Each public endpoint consumes exactly one message type, so reading any raw JSON body as that type is safe. Every
        // body, whatever its content type says, is first held to the rules (the raw reader is the default: a body of another
        // or no content type reaches it and is refused there).
        var rules = new PublicCommandBody(typeof(TMessage));
        var raw = new SystemTextJsonRawMessageSerializer(RawSerializerOptions.AnyMessageType);
        var envelope = new SystemTextJsonMessageSerializer();
        endpointConfigurator.AddDeserializer(new PublicCommandSerializerFactory(rules, raw, raw), isDefault: true);
        endpointConfigurator.AddDeserializer(new PublicCommandSerializerFactory(rules, envelope, envelope));
        // Outermost of the consume pipe: what passed the rules and still failed for good is set aside as a dead letter.
        endpointConfigurator.UseFilter(PoisonInputFilter.Create(context));
        endpointConfigurator.UseTransientFaultRetry(context);
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 1000));
    }
}
