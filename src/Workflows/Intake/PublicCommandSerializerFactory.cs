using System.Net.Mime;
using MassTransit;

namespace Orchestrator.Workflows.Intake;

/// <summary>MassTransit's serializer for one content type, its deserializer wrapped in <see cref="PublicCommandDeserializer"/>.</summary>
public sealed class PublicCommandSerializerFactory(PublicCommandBody rules, IMessageSerializer serializer, IMessageDeserializer deserializer)
    : ISerializerFactory
{
    public ContentType ContentType => deserializer.ContentType;

    public IMessageSerializer CreateSerializer() => serializer;

    public IMessageDeserializer CreateDeserializer() => new PublicCommandDeserializer(rules, deserializer);
}
