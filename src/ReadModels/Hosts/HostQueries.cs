using Marten;

namespace Orchestrator.ReadModels.Hosts;

/// <summary>Reads of the per-host load (asynchronous: it trails the events by the daemon's lag).</summary>
public static class HostQueries
{
    public static async Task<IReadOnlyList<HostLoad>> Hosts(this IQuerySession session, CancellationToken cancellationToken = default) =>
        await session.Query<HostLoad>().OrderBy(h => h.Id).ToListAsync(cancellationToken);

    public static Task<HostLoad?> Host(this IQuerySession session, string name, CancellationToken cancellationToken = default) =>
        session.LoadAsync<HostLoad>(name, cancellationToken);
}
