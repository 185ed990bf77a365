namespace Orchestrator.Workflows.Admission;

/// <summary>
/// The one record of which migrations hold a slot and which wait for one, for the whole cluster. Stored with optimistic
/// concurrency: two orchestrator instances admitting at once cannot both take the last slot; the loser retries.
/// </summary>
public sealed class AdmissionLedger
{
    public const string ClusterId = "cluster";

    public string Id { get; set; } = ClusterId;

    public List<AdmissionEntry> Active { get; set; } = [];

    public List<AdmissionEntry> Queue { get; set; } = [];

    /// <summary>Why <paramref name="entry"/> cannot start now, or null when it can.</summary>
    public string? Blocker(AdmissionEntry entry, AdmissionOptions limits)
    {
        var outbound = Active.Count(a => a.SourceHost == entry.SourceHost);
        if (outbound >= limits.MaxOutboundPerHost)
            return $"source {entry.SourceHost} already runs {outbound} outbound migration(s) (limit {limits.MaxOutboundPerHost})";
        var inbound = Active.Count(a => a.TargetHost == entry.TargetHost);
        if (inbound >= limits.MaxInboundPerHost)
            return $"target {entry.TargetHost} already receives {inbound} migration(s) (limit {limits.MaxInboundPerHost})";
        if (Active.Count >= limits.MaxPerCluster)
            return $"the cluster already runs {Active.Count} migration(s) (limit {limits.MaxPerCluster})";
        return null;
    }

    /// <summary>The queue in admission order: priority first, then age.</summary>
    public IEnumerable<AdmissionEntry> InOrder() => Queue.OrderByDescending(q => q.Priority).ThenBy(q => q.RequestedAt);

    /// <summary>1-based place of a queued migration in admission order.</summary>
    public int PositionOf(Guid migrationId) => InOrder().TakeWhile(q => q.MigrationId != migrationId).Count() + 1;

    /// <summary>Frees the migration's slot or queue place, then moves every queued migration that now fits into a slot.</summary>
    public IReadOnlyList<AdmissionEntry> Release(Guid migrationId, AdmissionOptions limits)
    {
        Active.RemoveAll(a => a.MigrationId == migrationId);
        Queue.RemoveAll(q => q.MigrationId == migrationId);
        var admitted = new List<AdmissionEntry>();
        foreach (var next in InOrder().ToList())
        {
            if (Blocker(next, limits) is not null)
                continue;
            Queue.Remove(next);
            Active.Add(next);
            admitted.Add(next);
        }
        return admitted;
    }
}
