using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// How a public command's JSON body is read, on AMQP (<see cref="PublicCommandBody"/>) and HTTP (the API's JSON options
/// and its BadRequestExceptionHandler) alike: one set of rules (<see cref="Apply"/>) and one wording for a body they
/// refuse (<see cref="Describe"/>), which names the member by its JSON path and the rule, not the serializer's .NET types.
/// </summary>
public static partial class PublicBodyReading
{
    /// <summary>The member a refusal is about (<c>policy.maxDowntimeMs</c>; null for the body as a whole) and the reason.</summary>
    public sealed record Refusal(string? Member, string Reason);

    /// <summary>
    /// Unknown members are refused, not ignored (a typo must not fall back to a default); numbers are JSON numbers
    /// (<c>"300"</c> is refused); a member may appear once; camelCase names, read case-insensitively (web defaults).
    /// </summary>
    public static JsonSerializerOptions Apply(JsonSerializerOptions options)
    {
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowDuplicateProperties = false;
        return options;
    }

    /// <summary>A body over <see cref="PublicCommandBody.MaxBodyBytes"/>: its size when known (AMQP always, HTTP from Content-Length).</summary>
    public static string TooLarge(long? bytes) =>
        $"The body is {(bytes is { } size ? $"{size}" : $"more than {PublicCommandBody.MaxBodyBytes}")} bytes; at most {PublicCommandBody.MaxBodyBytes} are accepted.";

    /// <summary>A body not said to be JSON; <paramref name="accepted"/>: what this transport takes instead.</summary>
    public static string NotJson(string? mediaType, string accepted) =>
        $"Content type {(string.IsNullOrEmpty(mediaType) ? "(none)" : InputRules.Show(mediaType))} is not accepted: send {accepted}.";

    public static string NotAnObject(string command) =>
        $"The body cannot be read as {command}: it must be a JSON object, the command's members by name.";

    /// <summary>Why a body could not be read as <paramref name="bodyType"/>, in the words both transports use.</summary>
    /// <param name="command">The command's name as senders know it (<c>StartMigration</c>), whatever type the transport reads.</param>
    public static Refusal Describe(JsonException exception, Type bodyType, string command)
    {
        var prefix = $"The body cannot be read as {command}: ";
        var segments = Segments(exception.Path);
        if (exception.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal) && segments.Count > 0)
        {
            var name = segments[^1];
            var owner = segments.Count == 1 ? command : $"{command}.{Dotted(segments[..^1])}";
            var elsewhere = Find(bodyType, name, [], depth: 0);
            var hint = elsewhere is null || elsewhere == Dotted(segments) ? string.Empty : $"; it belongs in {InputRules.Show(elsewhere)}";
            return new(Dotted(segments), $"{prefix}{InputRules.Show(name)} is not a member of {owner}{hint}. A member the command does not have is refused, not ignored.");
        }
        if (exception.Message.Contains("Duplicate", StringComparison.Ordinal) && segments.Count > 0)
            return new(Dotted(segments), $"{prefix}{InputRules.Show(Dotted(segments))} appears more than once; each member may appear once.");
        if (exception.Message.Contains("could not be converted to", StringComparison.Ordinal))
        {
            if (segments.Count == 0)
                return new(null, NotAnObject(command));
            return Resolve(bodyType, segments) is { } type
                ? new(Dotted(segments), $"{prefix}{InputRules.Show(Dotted(segments))} must be {Kind(type)}.")
                : new(Dotted(segments), $"{prefix}{InputRules.Show(Dotted(segments))} has a value of the wrong type.");
        }
        // Not JSON at all: the reader's own words (what it expected, where), without its .NET path.
        var message = exception.Message;
        var cut = new[] { " Path: ", " LineNumber: " }.Select(marker => message.IndexOf(marker, StringComparison.Ordinal)).Where(at => at >= 0)
            .DefaultIfEmpty(message.Length).Min() is var end ? message[..end] : message;
        var where = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : string.Empty;
        return new(null, $"{prefix}it is not valid JSON{where}: {InputRules.Clip(cut, 256)}");
    }

    /// <summary>A JSON path's members and indices: <c>$.policy.maxDowntimeMs</c>, <c>$['odd name']</c>, <c>$.targets[0]</c>.</summary>
    static List<string> Segments(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
            return [];
        return [.. PathSegment().Matches(path).Select(m => m.Groups["name"].Success ? m.Groups["name"].Value
            : m.Groups["quoted"].Success ? m.Groups["quoted"].Value.Replace("\\'", "'", StringComparison.Ordinal) : $"[{m.Groups["index"].Value}]")];
    }

    static string Dotted(IEnumerable<string> segments) =>
        string.Join(".", segments).Replace(".[", "[", StringComparison.Ordinal);

    /// <summary>The .NET type a path leads to in <paramref name="type"/>, null where it leads nowhere.</summary>
    static Type? Resolve(Type type, IEnumerable<string> segments)
    {
        Type? current = type;
        foreach (var segment in segments)
        {
            current = current is null ? null
                : segment.StartsWith('[') ? ElementType(current)
                : DictionaryValueType(current) ?? Property(current, segment)?.PropertyType;
            current = current is null ? null : Nullable.GetUnderlyingType(current) ?? current;
        }
        return current;
    }

    /// <summary>Where in the command a member of that name is (<c>policy.maxDowntimeMs</c>), for a member sent at the wrong level.</summary>
    static string? Find(Type type, string name, List<string> at, int depth)
    {
        if (depth > 3 || !IsRecord(type))
            return null;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var member = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                return string.Join(".", [.. at, member]);
            var inner = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (Find(inner, name, [.. at, member], depth + 1) is { } found)
                return found;
        }
        return null;
    }

    static bool IsRecord(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);

    static PropertyInfo? Property(Type type, string name) =>
        type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);

    static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType
            && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))?.GetGenericArguments()[1];

    static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    /// <summary>What a member of that type must be, in JSON's words.</summary>
    static string Kind(Type type) => type switch
    {
        _ when type == typeof(string) => "a string",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(Guid) => "a GUID, as a string (\"6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11\")",
        _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "a time, as an ISO 8601 string",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number, as a JSON number (not a string)",
        _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "a number, as a JSON number (not a string)",
        _ when DictionaryValueType(type) is { } value => $"an object whose values are each {Kind(value)}",
        _ when ElementType(type) is { } element => $"an array whose items are each {Kind(element)}",
        _ => "an object",
    };

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^'\\]|\\.)*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();
}
