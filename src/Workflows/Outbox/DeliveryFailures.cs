using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Tells the broker's absence (every message waits for it alike, without counting) from a message that cannot be
/// delivered however often it is tried (a poison, set aside after bounded attempts).
/// </summary>
public static class DeliveryFailures
{
    public const int MaxAttempts = 5;

    /// <summary>
    /// The broker away, by the one verdict the endpoints' retries use too (<see cref="TransientFaults"/>), or a send cut
    /// short: a broken stream or a send that did not finish within its bound.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        if (TransientFaults.IsTransient(exception))
            return true;
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is IOException or OperationCanceledException)
                return true;
        }
        return false;
    }

    /// <summary>1, 2, 4, 8 s: a poison is set aside about 15 s after its first failure.</summary>
    public static TimeSpan Backoff(int attempts) => TimeSpan.FromSeconds(1 << Math.Clamp(attempts - 1, 0, 4));

    public static DeadLetter SetAside(OutboxMessage row, Exception exception, DateTimeOffset now) => new()
    {
        Id = row.Id,
        MigrationId = row.MigrationId,
        Source = DeadLetterSources.Outbox,
        Queue = row.Queue,
        MessageType = row.MessageType,
        Body = row.Body,
        Attempts = row.Attempts,
        Reason = Describe(exception),
        FirstFailedAt = row.FirstFailedAt ?? now,
        SetAsideAt = now,
    };

    /// <summary>The failure in one line: its type and message, clipped, control characters shown as '?'.</summary>
    public static string Describe(Exception exception)
    {
        var text = $"{exception.GetType().Name}: {exception.Message}";
        if (text.Length > 512)
            text = text[..512] + "…";
        return string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = char.IsControl(source[i]) || char.IsSurrogate(source[i]) ? '?' : source[i];
        });
    }
}
