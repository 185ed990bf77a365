namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// A message set aside because it could not be delivered after bounded attempts (a poison): kept whole, with why and
/// when, so an operator can see it (API, attention queue, metrics) and nothing else waits behind it.
/// </summary>
public sealed class DeadLetter
{
    /// <summary>The message's own id (the outbox row's id).</summary>
    public Guid Id { get; set; }
    public Guid MigrationId { get; set; }

    /// <summary>Where it was set aside: <see cref="DeadLetterSources"/>.</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>The queue it was for; null: it was to be published.</summary>
    public string? Queue { get; set; }

    public string MessageType { get; set; } = string.Empty;
    public string Body { get; set; } = string.Empty;
    public int Attempts { get; set; }

    /// <summary>The last failure, clipped and free of control characters.</summary>
    public string Reason { get; set; } = string.Empty;

    public DateTimeOffset FirstFailedAt { get; set; }
    public DateTimeOffset SetAsideAt { get; set; }
}
