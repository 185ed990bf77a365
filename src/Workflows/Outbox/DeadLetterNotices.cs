using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// What tells a migration that a message of it was set aside: an outbox row for the saga, stored in the transaction that
/// stores the <see cref="DeadLetter"/>, so the migration learns it exactly when the letter exists.
/// </summary>
public static class DeadLetterNotices
{
    /// <summary>
    /// The notice for <paramref name="letter"/>; null when the letter belongs to no migration, or is itself a notice (the
    /// saga's queue refusing its own notices must not breed more).
    /// </summary>
    public static OutboxMessage? For(DeadLetter letter)
    {
        var type = ShortName(letter.MessageType);
        if (letter.MigrationId == Guid.Empty || type is nameof(MessageGivenUp) or nameof(StartGivenUp))
            return null;
        object notice = letter.Source == DeadLetterSources.Input && type == nameof(StartMigration)
            ? new StartGivenUp(letter.MigrationId, letter.Id, letter.Queue ?? string.Empty, letter.Reason)
            : new MessageGivenUp(letter.MigrationId, letter.Id, letter.Source, type, letter.Queue, letter.Reason);
        return OutboxMessages.Create(letter.MigrationId, QueueNames.MigrationSaga, notice);
    }

    /// <summary>A type's name without namespace or assembly: <c>Orchestrator.Contracts.Workers.DestroyTarget, …</c> → <c>DestroyTarget</c>.</summary>
    public static string ShortName(string typeName)
    {
        var name = typeName.Split(',')[0];
        return name[(name.LastIndexOfAny(['.', '+', ':']) + 1)..];
    }
}
