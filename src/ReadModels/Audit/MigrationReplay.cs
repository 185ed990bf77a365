using Marten;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Audit;

/// <summary>Point-in-time replay: a migration's summary as it stood at a version or a moment, rebuilt from its stream alone.</summary>
public static class MigrationReplay
{
    /// <exception cref="TamperedHistoryException">
    /// A stored event could not be read (a number rewritten past its type's range, a member's type changed): the stream
    /// is verified and its first bad event named, instead of a deserializer's error.
    /// </exception>
    public static async Task<MigrationSummary?> AsOf(IQuerySession session, Guid migrationId, long? version = null, DateTimeOffset? at = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await session.Events.AggregateStreamAsync<MigrationSummary>(migrationId, version ?? 0, at, token: cancellationToken);
        }
        catch (Exception unreadable) when (unreadable is not OperationCanceledException)
        {
            var verdict = await ChainVerifier.Verify(session.DocumentStore, migrationId, cancellationToken);
            if (verdict.Intact)
                throw;
            throw new TamperedHistoryException(verdict, unreadable);
        }
    }
}
