using Marten;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Drains;

/// <summary>One VM of a drain: where it goes, its migration, and how that migration stands.</summary>
public sealed record DrainItem(string VmId, Guid MigrationId, string TargetHost, string State, string? Reason);

/// <summary>
/// A drain as one operation: its plan (from its own stream) and its progress (from its migrations' summaries).
/// <see cref="State"/>: Planning, Failed (could not be planned), Draining, Drained (every VM moved) or
/// DrainedWithProblems (some VM could not move, or its migration ended other than Completed).
/// </summary>
public sealed record DrainProgress(
    Guid DrainId,
    string Host,
    string Hypervisor,
    IReadOnlyList<string> Targets,
    string? RequestedBy,
    DateTimeOffset RequestedAt,
    string State,
    string? Reason,
    int Total,
    int Moved,
    int Active,
    int NotMoved,
    int MaxActiveSeen,
    IReadOnlyList<DrainItem> Items,
    IReadOnlyList<DrainProblem> Unmovable)
{
    public const string Planning = "Planning";
    public const string Failed = "Failed";
    public const string Draining = "Draining";
    public const string Drained = "Drained";
    public const string DrainedWithProblems = "DrainedWithProblems";

    public bool IsFinished => State is Failed or Drained or DrainedWithProblems;

    public static async Task<DrainProgress?> Load(IQuerySession session, Guid drainId, CancellationToken cancellationToken = default)
    {
        var events = (await session.Events.FetchStreamAsync(drainId, token: cancellationToken)).Select(e => e.Data).ToList();
        if (events.OfType<HostDrainRequested>().FirstOrDefault() is not { } requested)
            return null;
        var failed = events.OfType<HostDrainFailed>().FirstOrDefault();
        var planned = events.OfType<HostDrainPlanned>().FirstOrDefault();
        if (planned is null)
            return new DrainProgress(drainId, requested.Host, requested.Hypervisor, requested.Targets, requested.RequestedBy, requested.Timestamp,
                failed is null ? Planning : Failed, failed?.Reason, 0, 0, 0, 0, 0, [], []);

        var summaries = (await session.LoadManyAsync<MigrationSummary>(cancellationToken, planned.Moves.Select(m => m.MigrationId).ToArray()))
            .ToDictionary(s => s.Id);
        var items = planned.Moves.Select(m => summaries.TryGetValue(m.MigrationId, out var s)
            ? new DrainItem(m.VmId, m.MigrationId, m.TargetHost, s.State, s.Reason)
            : new DrainItem(m.VmId, m.MigrationId, m.TargetHost, MigrationStates.Requested, null)).ToList();
        var moved = items.Count(i => i.State == MigrationStates.Completed);
        var ended = items.Count(i => MigrationStates.IsTerminal(i.State));
        var active = items.Count(i => !MigrationStates.IsTerminal(i.State) && i.State is not (MigrationStates.Queued or MigrationStates.Requested));
        var notMoved = ended - moved + planned.Unmovable.Count;
        var state = ended < items.Count ? Draining : notMoved == 0 ? Drained : DrainedWithProblems;
        return new DrainProgress(drainId, requested.Host, requested.Hypervisor, requested.Targets, requested.RequestedBy, requested.Timestamp,
            state, state == DrainedWithProblems ? $"{notMoved} of {items.Count + planned.Unmovable.Count} VMs were not moved." : null,
            items.Count + planned.Unmovable.Count, moved, active, notMoved, MaxConcurrent(summaries.Values), items, planned.Unmovable);
    }

    /// <summary>The most of the drain's migrations that held an admission slot at the same moment (admitted, not yet ended).</summary>
    static int MaxConcurrent(IEnumerable<MigrationSummary> summaries)
    {
        var edges = summaries.Where(s => s.AdmittedAt is not null)
            .SelectMany(s => new[] { (At: s.AdmittedAt!.Value, Delta: 1), (At: s.EndedAt ?? DateTimeOffset.MaxValue, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta);
        int current = 0, max = 0;
        foreach (var edge in edges)
            max = Math.Max(max, current += edge.Delta);
        return max;
    }
}
