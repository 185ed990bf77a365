using JasperFx.Events;
using Marten;

namespace Orchestrator.ReadModels.Migrations;

/// <summary>The reads the CLI and the API share.</summary>
public static class MigrationQueries
{
    public static Task<MigrationSummary?> Summary(this IQuerySession session, Guid migrationId, CancellationToken cancellationToken = default) =>
        session.LoadAsync<MigrationSummary>(migrationId, cancellationToken);

    public static async Task<IReadOnlyList<MigrationSummary>> Recent(this IQuerySession session, int count, CancellationToken cancellationToken = default) =>
        await session.Query<MigrationSummary>().OrderByDescending(x => x.RequestedAt).Take(count).ToListAsync(cancellationToken);

    public static Task<IReadOnlyList<IEvent>> History(this IQuerySession session, Guid migrationId, CancellationToken cancellationToken = default) =>
        session.Events.FetchStreamAsync(migrationId, token: cancellationToken);
}
