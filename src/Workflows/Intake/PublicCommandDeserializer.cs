using System.Net.Mime;
using MassTransit;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// Reads a public endpoint's bodies: each is held to <see cref="PublicCommandBody"/>'s rules first, then read by
/// MassTransit's own deserializer for its content type. A body that breaks a rule never reaches the consumer: the
/// <see cref="PublicBodyRefusedException"/> sends it to the endpoint's _error queue, at once, with the rule as the reason.
/// </summary>
public sealed class PublicCommandDeserializer(PublicCommandBody rules, IMessageDeserializer inner) : IMessageDeserializer
{
    public ContentType ContentType => inner.ContentType;

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateScope("publicCommand");
        inner.Probe(scope);
    }

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        rules.Problem(receiveContext.ContentType?.MediaType, receiveContext.Body) is { } problem
            ? throw new PublicBodyRefusedException(problem)
            : inner.Deserialize(receiveContext);

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null) =>
        inner.Deserialize(body, headers, destinationAddress);

    public MessageBody GetMessageBody(string text) => inner.GetMessageBody(text);
}
