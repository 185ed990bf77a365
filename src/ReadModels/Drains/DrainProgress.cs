using Marten;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Drains;

/// <summary>
/// One VM of a drain: where it goes, its migration, and how that migration stands; what the drain's forecast said of it
/// (<c>Predicted*</c>, absent for a drain planned without one) beside what happened (<see cref="StartedSeconds"/> when
/// admission let it start, <see cref="EndedSeconds"/> when it ended, its <see cref="DowntimeMs"/>). Seconds count from
/// the drain's plan.
/// </summary>
public sealed record DrainItem(string VmId, Guid MigrationId, string TargetHost, string State, string? Reason,
    double? PredictedStartSeconds = null, double? PredictedEndSeconds = null, double? PredictedDowntimeMs = null, string? PredictedOutcome = null,
    double? StartedSeconds = null, double? EndedSeconds = null, double? DowntimeMs = null);

/// <summary>
/// A drain as one operation: its plan (from its own stream) and its progress (from its migrations' summaries).
/// <see cref="State"/>: Planning, Failed (could not be planned), Draining, Drained (every VM moved) or
/// DrainedWithProblems (some VM could not move, or its migration ended other than Completed).
/// <see cref="PredictedTotalSeconds"/>: how long the forecast recorded with the plan said the drain would take;
/// <see cref="ElapsedSeconds"/>: how long it has taken so far (until its last migration ended, once finished).
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
    IReadOnlyList<DrainProblem> Unmovable,
    double? PredictedTotalSeconds = null,
    double? ElapsedSeconds = null)
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
        var forecasts = (planned.Forecast?.Moves ?? []).ToDictionary(f => f.VmId, StringComparer.Ordinal);
        var plannedAt = planned.Timestamp;
        double? Since(DateTimeOffset? at) => at is { } t ? Math.Round(Math.Max(0, (t - plannedAt).TotalSeconds), 2) : null;
        var items = planned.Moves.Select(m =>
        {
            var forecast = forecasts.GetValueOrDefault(m.VmId);
            var item = new DrainItem(m.VmId, m.MigrationId, m.TargetHost, MigrationStates.Requested, null, forecast?.StartSeconds, forecast?.EndSeconds,
                forecast?.DowntimeMs, forecast?.Outcome);
            return summaries.TryGetValue(m.MigrationId, out var s)
                ? item with { State = s.State, Reason = s.Reason, StartedSeconds = Since(s.AdmittedAt), EndedSeconds = Since(s.EndedAt), DowntimeMs = s.DowntimeMs }
                : item;
        }).ToList();
        var moved = items.Count(i => i.State == MigrationStates.Completed);
        var ended = items.Count(i => MigrationStates.IsTerminal(i.State));
        var active = items.Count(i => !MigrationStates.IsTerminal(i.State) && i.State is not (MigrationStates.Queued or MigrationStates.Requested));
        var notMoved = ended - moved + planned.Unmovable.Count;
        var state = ended < items.Count ? Draining : notMoved == 0 ? Drained : DrainedWithProblems;
        var elapsed = state == Draining ? Since(DateTimeOffset.UtcNow) : items.Max(i => i.EndedSeconds) ?? 0;
        return new DrainProgress(drainId, requested.Host, requested.Hypervisor, requested.Targets, requested.RequestedBy, requested.Timestamp,
            state, state == DrainedWithProblems ? $"{notMoved} of {items.Count + planned.Unmovable.Count} VMs were not moved." : null,
            items.Count + planned.Unmovable.Count, moved, active, notMoved, MaxConcurrent(summaries.Values), items, planned.Unmovable,
            planned.Forecast?.TotalSeconds, elapsed);
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
