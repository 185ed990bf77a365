using System.Collections.Concurrent;

namespace Orchestrator.Workers.Consumers;

/// <summary>The transfers this worker runs now, by migration, with the source host each runs from.</summary>
public sealed class ActiveTransfers
{
    readonly ConcurrentDictionary<Guid, string> _transfers = new();

    public IDisposable Begin(Guid migrationId, string sourceHost)
    {
        _transfers[migrationId] = sourceHost;
        return new End(this, migrationId);
    }

    /// <summary>Each source host with the migrations it transfers.</summary>
    public IEnumerable<(string Host, Guid[] MigrationIds)> ByHost() =>
        _transfers.ToArray().GroupBy(t => t.Value, t => t.Key).Select(g => (g.Key, g.ToArray()));

    sealed class End(ActiveTransfers owner, Guid migrationId) : IDisposable
    {
        public void Dispose() => owner._transfers.TryRemove(migrationId, out _);
    }
}
