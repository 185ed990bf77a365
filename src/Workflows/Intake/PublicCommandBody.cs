using System.Text.Json;
using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// The rules a public command's body meets on AMQP, as on HTTP: JSON only (a plain body as <c>application/json</c>, or
/// a MassTransit envelope), at most <see cref="MaxBodyBytes"/>, no member the command does not have, numbers as JSON
/// numbers. <see cref="PublicCommandDeserializer"/> applies them before MassTransit reads the body.
/// </summary>
public sealed class PublicCommandBody(Type messageType)
{
    public const int MaxBodyBytes = 64 * 1024;

    public const string PlainJson = "application/json";
    public const string Envelope = "application/vnd.masstransit+json";

    /// <summary>The HTTP API's reading (web defaults, <see cref="PublicBodyReading.Apply"/>), not MassTransit's, which converts more than JSON says.</summary>
    static readonly JsonSerializerOptions Strict = PublicBodyReading.Apply(new(JsonSerializerDefaults.Web));

    readonly int _supportedVersion = PublicContract.Command(messageType)?.SchemaVersion ?? PublicContract.DefaultSchemaVersion;

    /// <summary>Why the body cannot be taken as <see cref="messageType"/>; null when it can.</summary>
    public string? Problem(string? mediaType, MessageBody body)
    {
        if (mediaType is not (PlainJson or Envelope))
            return PublicBodyReading.NotJson(mediaType, $"{PlainJson} (a plain JSON body) or {Envelope} (a MassTransit envelope)");
        var length = body.Length ?? body.GetBytes().Length;
        if (length > MaxBodyBytes)
            return PublicBodyReading.TooLarge(length);
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
                return PublicBodyReading.NotAnObject(messageType.Name);
            // The version first: a later version's new members would otherwise be refused as unknown, with less clear words.
            if (InputRules.SchemaVersionProblem(messageType.Name, SchemaVersionOf(message), _supportedVersion) is { } version)
                return version;
            message.Deserialize(messageType, Strict);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or FormatException or OverflowException or ArgumentException)
        {
            return $"The body cannot be read as {messageType.Name}: {InputRules.Clip(e.Message, 512)}";
        }
        catch (JsonException e)
        {
            // The member by its JSON path and the rule it broke, as the HTTP API says it (a refused name is clipped).
            return PublicBodyReading.Describe(e, messageType, messageType.Name).Reason;
        }
    }

    /// <summary>The body's <c>schemaVersion</c> (named as the reading matches names: any case) when it is an integer; else null.</summary>
    static long? SchemaVersionOf(JsonElement message)
    {
        foreach (var member in message.EnumerateObject())
        {
            if (string.Equals(member.Name, "schemaVersion", StringComparison.OrdinalIgnoreCase)
                && member.Value.ValueKind == JsonValueKind.Number && member.Value.TryGetInt64(out var version))
                return version;
        }
        return null;
    }
}
