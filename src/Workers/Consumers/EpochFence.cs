using System.Collections.Concurrent;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// Fencing: the highest epoch this worker has seen per migration. A command with a lower epoch comes from an
/// incarnation of the migration that has been superseded (a recovery took over) and must not act on a VM.
/// </summary>
public sealed class EpochFence
{
    readonly ConcurrentDictionary<Guid, int> _highest = new();

    /// <summary>True when <paramref name="epoch"/> is current for the migration (and records it); false when stale.</summary>
    public bool Admit(Guid migrationId, int epoch)
    {
        var highest = _highest.AddOrUpdate(migrationId, epoch, (_, seen) => Math.Max(seen, epoch));
        return epoch >= highest;
    }
}
