using System.Text.Json.Serialization;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// A message a transition sends or publishes, stored in the transition's own transaction. It is delivered right after
/// the commit and deleted; if the process dies in between, <see cref="OutboxDispatcher"/> delivers it later. Its id is
/// the message id, so a receiver with an inbox sees a second delivery as the duplicate it is.
/// </summary>
public sealed class OutboxMessage
{
    public Guid Id { get; set; }
    public Guid MigrationId { get; set; }

    /// <summary>The queue to send to; null means publish.</summary>
    public string? Queue { get; set; }

    public string MessageType { get; set; } = string.Empty;
    public string Body { get; set; } = string.Empty;

    /// <summary>
    /// The message itself while the transition that created it runs, so its delivery right after the commit does not
    /// read it back from <see cref="Body"/>; not stored (a row read from the table has only the body).
    /// </summary>
    [JsonIgnore]
    public object? Message { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Failed deliveries that were the message's own fault (not the broker's absence).</summary>
    public int Attempts { get; set; }

    /// <summary>When the dispatcher may try again after a failure; null: at once.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    public DateTimeOffset? FirstFailedAt { get; set; }
}
