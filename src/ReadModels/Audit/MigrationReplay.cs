using Marten;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Audit;

/// <summary>Point-in-time replay: a migration's summary as it stood at a version or a moment, rebuilt from its stream alone.</summary>
public static class MigrationReplay
{
    public static Task<MigrationSummary?> AsOf(IQuerySession session, Guid migrationId, long? version = null, DateTimeOffset? at = null,
        CancellationToken cancellationToken = default) =>
        session.Events.AggregateStreamAsync<MigrationSummary>(migrationId, version ?? 0, at, token: cancellationToken);
}
