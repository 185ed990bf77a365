using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Api;

/// <summary>A dead letter in a list: everything but its body (<c>GET /api/dead-letters/{id}</c> has it).</summary>
/// <param name="MigrationId">Null when the message named no migration.</param>
/// <param name="Source"><c>outbox</c>: a command or event the broker would not take; <c>input</c>: a message whose transaction failed for good.</param>
/// <param name="Queue">Where it was to go (outbox) or where it came in (input).</param>
public sealed record DeadLetterView(Guid Id, Guid? MigrationId, string Source, string? Queue, string MessageType, int Attempts, string Reason,
    DateTimeOffset FirstFailedAt, DateTimeOffset SetAsideAt)
{
    public static DeadLetterView Of(DeadLetter letter) => new(letter.Id, letter.MigrationId == Guid.Empty ? null : letter.MigrationId, letter.Source,
        letter.Queue, DeadLetterNotices.ShortName(letter.MessageType), letter.Attempts, letter.Reason, letter.FirstFailedAt, letter.SetAsideAt);
}
