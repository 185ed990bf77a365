using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using MassTransit.Serialization;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// Reads a public command's body as the HTTP API does before anything handles it: JSON only (a plain body as
/// <c>application/json</c>, or a MassTransit envelope), at most <see cref="MaxBodyBytes"/>, no member the command does
/// not have, numbers as JSON numbers. A body that breaks a rule is refused with a <see cref="PublicBodyRefusedException"/>
/// that says which, and lands in the endpoint's _error queue without a retry.
/// </summary>
public sealed class PublicBodyFilter(Type messageType) : IFilter<ConsumeContext>
{
    public const int MaxBodyBytes = 64 * 1024;

    public const string PlainJson = "application/json";
    public const string Envelope = "application/vnd.masstransit+json";

    static readonly JsonSerializerOptions Strict = new(SystemTextJsonMessageSerializer.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        if (Problem(context.ReceiveContext.ContentType?.MediaType, context.ReceiveContext.Body) is { } problem)
            throw new PublicBodyRefusedException(problem);
        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("publicBody");

    /// <summary>Why the body cannot be taken as <see cref="messageType"/>; null when it can.</summary>
    public string? Problem(string? mediaType, MessageBody body)
    {
        if (mediaType is not (PlainJson or Envelope))
            return $"Content type {(mediaType is null ? "(none)" : InputRules.Show(mediaType))} is not accepted: send {PlainJson} "
                + $"(a plain JSON body) or {Envelope} (a MassTransit envelope).";
        var length = body.Length ?? body.GetBytes().Length;
        if (length > MaxBodyBytes)
            return $"The body is {length} bytes; at most {MaxBodyBytes} are accepted.";
        try
        {
            using var document = JsonDocument.Parse(body.GetBytes());
            var message = document.RootElement;
            if (mediaType == Envelope)
            {
                if (message.ValueKind != JsonValueKind.Object
                    || !message.EnumerateObject().Any(p => p.NameEquals("message")))
                    return "The envelope has no message.";
                message = message.GetProperty("message");
            }
            if (message.ValueKind != JsonValueKind.Object)
                return $"The body is a JSON {message.ValueKind.ToString().ToLowerInvariant()}, not an object.";
            message.Deserialize(messageType, Strict);
            return null;
        }
        catch (JsonException e)
        {
            // The serializer's words (member, path, position), clipped: a refused member's name can be as long as the body.
            return $"The body cannot be read as {messageType.Name}: {InputRules.Clip(e.Message, 512)}";
        }
    }
}
