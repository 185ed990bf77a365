namespace Orchestrator.Workflows.Outbox;

/// <summary>A message the saga has applied, by message id: a redelivery or a duplicate finds it and changes nothing.</summary>
public sealed class InboxRecord
{
    public string Id { get; set; } = string.Empty;
    public DateTimeOffset ProcessedAt { get; set; }
}
