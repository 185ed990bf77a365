namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// One row of the event store as PostgreSQL holds it, every column an auditor relies on: the hash of version 2 covers
/// all but <see cref="Sequence"/> (not known before the commit), which the ledger covers.
/// </summary>
public sealed record StoredEvent(long Sequence, Guid StreamId, long Version, string Type, DateTimeOffset Timestamp, string? CorrelationId,
    string? CausationId, bool IsArchived, string? HeadersJson, string DataJson)
{
    /// <summary>The value of a header as text (a string's value, else its JSON), or null when absent.</summary>
    public string? Header(string name)
    {
        if (HeadersJson is null)
            return null;
        using var headers = System.Text.Json.JsonDocument.Parse(HeadersJson);
        if (headers.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object || !headers.RootElement.TryGetProperty(name, out var value))
            return null;
        return value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString() : value.GetRawText();
    }
}
