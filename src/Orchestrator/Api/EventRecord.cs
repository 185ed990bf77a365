using JasperFx.Events;

namespace Orchestrator.Api;

/// <summary>An event as the API shows it: its place in the stream, its metadata and its data.</summary>
public sealed record EventRecord(
    long Version,
    long Sequence,
    string Type,
    DateTimeOffset Timestamp,
    string? CorrelationId,
    string? CausationId,
    IReadOnlyDictionary<string, object>? Headers,
    object Data)
{
    public static EventRecord From(IEvent e) =>
        new(e.Version, e.Sequence, e.EventType.Name, e.Timestamp, e.CorrelationId, e.CausationId, e.Headers, e.Data);
}
