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
    ReadOnlyMemory<byte>? _headersUtf8;
    ReadOnlyMemory<byte>? _dataUtf8;
    string? _correlationId = CorrelationId;
    string? _causationId = CausationId;
    ReadOnlyMemory<byte>? _correlationUtf8;
    ReadOnlyMemory<byte>? _causationUtf8;

    /// <summary>
    /// A row read as the UTF-8 PostgreSQL sent (<see cref="EventRows.ReadUtf8"/>): the hash is computed from these bytes,
    /// and the text of <see cref="HeadersJson"/> and <see cref="DataJson"/> is made only when asked for. The bytes may
    /// be slices of a buffer the reader reuses once the event has been verified (<see cref="ChainVerifier.VerifyAll"/>).
    /// </summary>
    public static StoredEvent FromUtf8(long sequence, Guid streamId, long version, string type, DateTimeOffset timestamp, string? correlationId,
        string? causationId, bool isArchived, ReadOnlyMemory<byte>? headersUtf8, ReadOnlyMemory<byte> dataUtf8) =>
        new(sequence, streamId, version, type, timestamp, correlationId, causationId, isArchived, null, null!)
        {
            _headersUtf8 = headersUtf8,
            _dataUtf8 = dataUtf8,
        };

    /// <summary>
    /// <see cref="FromUtf8"/> with the correlation and causation ids as UTF-8 too, their text made only when asked for:
    /// verify's reader, which hashes them as they came.
    /// </summary>
    public static StoredEvent FromUtf8Row(long sequence, Guid streamId, long version, string type, DateTimeOffset timestamp,
        ReadOnlyMemory<byte>? correlationUtf8, ReadOnlyMemory<byte>? causationUtf8, bool isArchived, ReadOnlyMemory<byte>? headersUtf8,
        ReadOnlyMemory<byte> dataUtf8) =>
        new(sequence, streamId, version, type, timestamp, null, null, isArchived, null, null!)
        {
            _correlationUtf8 = correlationUtf8,
            _causationUtf8 = causationUtf8,
            _headersUtf8 = headersUtf8,
            _dataUtf8 = dataUtf8,
        };

    public string? CorrelationId
    {
        get => _correlationId ??= _correlationUtf8 is { } utf8 ? Encoding.UTF8.GetString(utf8.Span) : null;
        init => (_correlationId, _correlationUtf8) = (value, null);
    }

    public string? CausationId
    {
        get => _causationId ??= _causationUtf8 is { } utf8 ? Encoding.UTF8.GetString(utf8.Span) : null;
        init => (_causationId, _causationUtf8) = (value, null);
    }

    /// <summary>The correlation id as UTF-8 when the row was read so, else null.</summary>
    internal ReadOnlyMemory<byte>? CorrelationUtf8 => _correlationUtf8;

    /// <summary>The causation id as UTF-8 when the row was read so, else null.</summary>
    internal ReadOnlyMemory<byte>? CausationUtf8 => _causationUtf8;

    public string? HeadersJson
    {
        get => _headersJson ??= _headersUtf8 is { } utf8 ? Encoding.UTF8.GetString(utf8.Span) : null;
        init => (_headersJson, _headersUtf8) = (value, null);
    }

    public string DataJson
    {
        get => _dataJson ??= Encoding.UTF8.GetString(_dataUtf8!.Value.Span);
        init => (_dataJson, _dataUtf8) = (value, null);
    }

    /// <summary>The data as UTF-8 when the row was read so, else null.</summary>
    internal ReadOnlyMemory<byte>? DataUtf8 => _dataUtf8;

    /// <summary>The headers as UTF-8 when the row was read so, else null.</summary>
    internal ReadOnlyMemory<byte>? HeadersUtf8 => _headersUtf8;

    (string? Hash, string? Previous, string? Version)? _chain;
    ChainUtf8? _chainUtf8;

    /// <summary>The chain's headers (<c>hash</c>, <c>previous-hash</c>, <c>hash-version</c>), read once.</summary>
    public (string? Hash, string? Previous, string? Version) Chain => _chain ??= Utf8Chain is { FromText: false } plain
        ? (Text(plain.Hash), Text(plain.Previous), Text(plain.Version))
        : _chain ?? ReadTextChain();

    (string?, string?, string?) ReadTextChain() =>
        ReadChain(_headersUtf8 is { } utf8 ? JsonDocument.Parse(utf8) : HeadersJson is { } json ? JsonDocument.Parse(json) : null);

    /// <summary>
    /// The chain's headers as UTF-8, what verify compares and hashes: slices of the row's own bytes when a reader pass
    /// finds them plainly written (no text made), else the UTF-8 of <see cref="Chain"/>.
    /// </summary>
    internal ChainUtf8 Utf8Chain => _chainUtf8 ??= (_headersUtf8 is { } headers ? TryReadChain(headers) : null)
        ?? FromStrings(_chain ??= ReadTextChain());

    /// <summary>The chain's three headers as UTF-8 (null: absent); <see cref="FromText"/> when they had to be read as text.</summary>
    internal readonly record struct ChainUtf8(ReadOnlyMemory<byte>? Hash, ReadOnlyMemory<byte>? Previous, ReadOnlyMemory<byte>? Version, bool FromText);

    static ChainUtf8 FromStrings((string? Hash, string? Previous, string? Version) chain) =>
        new(Utf8(chain.Hash), Utf8(chain.Previous), Utf8(chain.Version), FromText: true);

    // Typed: a null array would convert to an empty memory, not to null.
    static ReadOnlyMemory<byte>? Utf8(string? text) => text is null ? (ReadOnlyMemory<byte>?)null : Encoding.UTF8.GetBytes(text);

    static string? Text(ReadOnlyMemory<byte>? utf8) => utf8 is { } bytes ? Encoding.UTF8.GetString(bytes.Span) : null;

    /// <summary>The value of a header as text (a string's value, else its JSON), or null when absent.</summary>
    public string? Header(string name) => name switch
    {
        HashChain.HashHeader => Chain.Hash,
        HashChain.PreviousHashHeader => Chain.Previous,
        HashChain.VersionHeader => Chain.Version,
        _ => Read(HeadersJson, name),
    };

    /// <summary>A copy (<c>with</c>) parses its own columns again: a changed one must not keep the original's chain.</summary>
    StoredEvent(StoredEvent original)
    {
        (Sequence, StreamId, Version, Type, Timestamp) = (original.Sequence, original.StreamId, original.Version, original.Type, original.Timestamp);
        IsArchived = original.IsArchived;
        (_headersJson, _dataJson, _headersUtf8, _dataUtf8) = (original._headersJson, original._dataJson, original._headersUtf8, original._dataUtf8);
        (_correlationId, _causationId, _correlationUtf8, _causationUtf8) =
            (original._correlationId, original._causationId, original._correlationUtf8, original._causationUtf8);
    }

    /// <summary>Equal when every column is: what was parsed from them and kept is no part of the event.</summary>
    public bool Equals(StoredEvent? other) =>
        other is not null && Sequence == other.Sequence && StreamId == other.StreamId && Version == other.Version && Type == other.Type
        && Timestamp == other.Timestamp && CorrelationId == other.CorrelationId && CausationId == other.CausationId
        && IsArchived == other.IsArchived && HeadersJson == other.HeadersJson && DataJson == other.DataJson;

    public override int GetHashCode() => HashCode.Combine(Sequence, StreamId, Version, Type, Timestamp, HeadersJson, DataJson);

    /// <summary>
    /// The chain's headers, where they lie in the UTF-8 <paramref name="headers"/>, read by one reader pass with no
    /// document built and no text made; null when a chain header is escaped, is neither a string nor a number, or the
    /// headers are not one well-formed object (then <see cref="ReadChain"/> reads them as text).
    /// </summary>
    static ChainUtf8? TryReadChain(ReadOnlyMemory<byte> headers)
    {
        ReadOnlyMemory<byte>? hash = null, previous = null, version = null;
        try
        {
            var reader = new Utf8JsonReader(headers.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueIsEscaped)
                    return null;
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
                    return null;
                // A string's value starts after its quote. A later duplicate wins, as JsonElement.TryGetProperty finds it.
                var start = (int)reader.TokenStartIndex + (reader.TokenType == JsonTokenType.String ? 1 : 0);
                var value = headers.Slice(start, reader.ValueSpan.Length);
                if (which == 1)
                    hash = value;
                else if (which == 2)
                    previous = value;
                else
                    version = value;
            }
            if (reader.Read())
                return null;
        }
        catch (JsonException)
        {
            return null;
        }
        return new ChainUtf8(hash, previous, version, FromText: false);
    }

    (string?, string?, string?) ReadChain(JsonDocument? document)
    {
        if (document is null)
            return (null, null, null);
        using var headers = document;
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
