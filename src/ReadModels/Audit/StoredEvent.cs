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

    byte[]? _canonicalHeaders;

    /// <summary>A copy (<c>with</c>) parses its own columns again: a changed one must not keep the original's chain.</summary>
    StoredEvent(StoredEvent original)
    {
        (Sequence, StreamId, Version, Type, Timestamp) = (original.Sequence, original.StreamId, original.Version, original.Type, original.Timestamp);
        (CorrelationId, CausationId, IsArchived, HeadersJson, DataJson) =
            (original.CorrelationId, original.CausationId, original.IsArchived, original.HeadersJson, original.DataJson);
    }

    /// <summary>Equal when every column is: what was parsed from them and kept is no part of the event.</summary>
    public bool Equals(StoredEvent? other) =>
        other is not null && Sequence == other.Sequence && StreamId == other.StreamId && Version == other.Version && Type == other.Type
        && Timestamp == other.Timestamp && CorrelationId == other.CorrelationId && CausationId == other.CausationId
        && IsArchived == other.IsArchived && HeadersJson == other.HeadersJson && DataJson == other.DataJson;

    public override int GetHashCode() => HashCode.Combine(Sequence, StreamId, Version, Type, Timestamp, HeadersJson, DataJson);

    /// <summary>
    /// The headers in RFC 8785 form without the chain's own two (what the hash of version 2 covers), written while the
    /// chain was read, so verify parses the headers once; null when not written (then the hash writes them itself).
    /// </summary>
    internal byte[]? CanonicalHeaders => _canonicalHeaders;

    (string?, string?, string?) ReadChain(string? headersJson)
    {
        if (headersJson is null)
            return (null, null, null);
        using var headers = JsonDocument.Parse(headersJson);
        if (headers.RootElement.ValueKind == JsonValueKind.Object)
        {
            try
            {
                _canonicalHeaders = HashChain.CanonicalHeaders(headers.RootElement);
            }
            catch (Exception e) when (e is InexactNumberException or InvalidOperationException or JsonException)
            {
                // The hash meets the same problem and says what it is.
            }
        }
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
