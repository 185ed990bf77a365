using System.Text;
using System.Text.Json;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// One row of the event store as PostgreSQL holds it, every column an auditor relies on: the hash of version 2 covers
/// all but <see cref="Sequence"/> (not known before the commit), which the ledger covers.
/// </summary>
public sealed record StoredEvent(long Sequence, Guid StreamId, long Version, string Type, DateTimeOffset Timestamp, string? CorrelationId,
    string? CausationId, bool IsArchived, string? HeadersJson, string DataJson)
{
    string? _headersJson = HeadersJson;
    string? _dataJson = DataJson;
    byte[]? _headersUtf8;
    byte[]? _dataUtf8;

    /// <summary>
    /// A row read as the UTF-8 PostgreSQL sent (<see cref="EventRows.ReadUtf8"/>): the hash is computed from these bytes,
    /// and the text of <see cref="HeadersJson"/> and <see cref="DataJson"/> is made only when asked for.
    /// </summary>
    public static StoredEvent FromUtf8(long sequence, Guid streamId, long version, string type, DateTimeOffset timestamp, string? correlationId,
        string? causationId, bool isArchived, byte[]? headersUtf8, byte[] dataUtf8) =>
        new(sequence, streamId, version, type, timestamp, correlationId, causationId, isArchived, null, null!)
        {
            _headersUtf8 = headersUtf8,
            _dataUtf8 = dataUtf8,
        };

    public string? HeadersJson
    {
        get => _headersJson ??= _headersUtf8 is null ? null : Encoding.UTF8.GetString(_headersUtf8);
        init => (_headersJson, _headersUtf8) = (value, null);
    }

    public string DataJson
    {
        get => _dataJson ??= Encoding.UTF8.GetString(_dataUtf8!);
        init => (_dataJson, _dataUtf8) = (value, null);
    }

    /// <summary>The data as UTF-8 when the row was read so, else null.</summary>
    internal byte[]? DataUtf8 => _dataUtf8;

    (string? Hash, string? Previous, string? Version)? _chain;

    /// <summary>The chain's headers (<c>hash</c>, <c>previous-hash</c>, <c>hash-version</c>), read once.</summary>
    public (string? Hash, string? Previous, string? Version) Chain => _chain ??= _headersUtf8 is not null
        ? TryReadChain(_headersUtf8, out var chain, out _canonicalHeaders) ? chain : ReadChain(JsonDocument.Parse(_headersUtf8))
        : ReadChain(HeadersJson is { } json ? JsonDocument.Parse(json) : null);

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
        (CorrelationId, CausationId, IsArchived) = (original.CorrelationId, original.CausationId, original.IsArchived);
        (_headersJson, _dataJson, _headersUtf8, _dataUtf8) = (original._headersJson, original._dataJson, original._headersUtf8, original._dataUtf8);
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

    /// <summary>
    /// The chain's headers (their values as <see cref="Header"/> gives them) and the rest of the headers object in
    /// canonical form, read from UTF-8 by a reader and <see cref="JcsUtf8.TryCanonical"/>, with no document built; false
    /// when the one-pass form does not apply or a chain header is not a plain string or number (then
    /// <see cref="ReadChain"/> reads them).
    /// </summary>
    static bool TryReadChain(ReadOnlySpan<byte> headers, out (string? Hash, string? Previous, string? Version) chain,
        out byte[]? canonical)
    {
        chain = default;
        canonical = null;
        try
        {
            var reader = new Utf8JsonReader(headers);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueIsEscaped)
                    return false;
                var which = reader.ValueSpan.SequenceEqual("hash"u8) ? 1
                    : reader.ValueSpan.SequenceEqual("previous-hash"u8) ? 2
                    : reader.ValueSpan.SequenceEqual("hash-version"u8) ? 3 : 0;
                reader.Read();
                if (which == 0)
                {
                    reader.Skip();
                    continue;
                }
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number) || reader.ValueIsEscaped)
                    return false;
                // A later duplicate wins, as JsonElement.TryGetProperty finds it.
                var value = Encoding.UTF8.GetString(reader.ValueSpan);
                chain = which switch
                {
                    1 => chain with { Hash = value },
                    2 => chain with { Previous = value },
                    _ => chain with { Version = value },
                };
            }
            if (reader.Read())
                return false;
        }
        catch (JsonException)
        {
            return false;
        }
        canonical = JcsUtf8.TryCanonical(headers, skipChainHeaders: true);
        return canonical is not null;
    }

    (string?, string?, string?) ReadChain(JsonDocument? document)
    {
        if (document is null)
            return (null, null, null);
        using var headers = document;
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
