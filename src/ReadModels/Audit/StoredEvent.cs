using System.Text.Json;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// One row of the event store as PostgreSQL holds it, every column an auditor relies on: the hash of version 2 covers
/// all but <see cref="Sequence"/> (not known before the commit), which the ledger covers.
/// </summary>
public sealed record StoredEvent(long Sequence, Guid StreamId, long Version, string Type, DateTimeOffset Timestamp, string? CorrelationId,
    string? CausationId, bool IsArchived, string? HeadersJson, string DataJson)
{
    (string? Hash, string? Previous, string? Version)? _chain;

    /// <summary>The chain's headers (<c>hash</c>, <c>previous-hash</c>, <c>hash-version</c>), read once.</summary>
    public (string? Hash, string? Previous, string? Version) Chain => _chain ??= ReadChain(HeadersJson);

    /// <summary>The value of a header as text (a string's value, else its JSON), or null when absent.</summary>
    public string? Header(string name) => name switch
    {
        HashChain.HashHeader => Chain.Hash,
        HashChain.PreviousHashHeader => Chain.Previous,
        HashChain.VersionHeader => Chain.Version,
        _ => Read(HeadersJson, name),
    };

    static (string?, string?, string?) ReadChain(string? headersJson)
    {
        if (headersJson is null)
            return (null, null, null);
        using var headers = JsonDocument.Parse(headersJson);
        return (Text(headers.RootElement, HashChain.HashHeader), Text(headers.RootElement, HashChain.PreviousHashHeader),
            Text(headers.RootElement, HashChain.VersionHeader));
    }

    static string? Read(string? headersJson, string name)
    {
        if (headersJson is null)
            return null;
        using var headers = JsonDocument.Parse(headersJson);
        return Text(headers.RootElement, name);
    }

    static string? Text(JsonElement headers, string name) =>
        headers.ValueKind == JsonValueKind.Object && headers.TryGetProperty(name, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;
}
