using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;

namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// Shares one link among migrations by what each needs, not by count. A migration starts only when the link has the
/// bandwidth its forecast needs to meet its downtime limit without throttling its guest; waiting ones go in order of
/// priority, then deadline, then arrival; the fixed count stays as a cap. What the link has beyond the running
/// migrations' needs is spread among them in proportion to their needs, up to each one's policy maximum, so the link
/// is never left idle while one could use it. Pure: the caller re-plans whenever a migration starts or ends.
/// </summary>
public static class LinkScheduler
{
    const double MiB = 1024 * 1024;

    /// <summary>How much more than the least bandwidth that converges a migration asks for: room for a share that shrinks and a guest that dirties more than forecast.</summary>
    public const double Headroom = 2;

    /// <summary>
    /// <see cref="Headroom"/> times the least bandwidth (to the nearest 8 MiB/s) at which the forecast converges within
    /// the policy's downtime cap without auto-converge, and ends within <paramref name="deadlineSeconds"/> when there is a
    /// deadline, at most <paramref name="maxBytesPerSecond"/>; that maximum when none does.
    /// </summary>
    public static double NeededBandwidth(DirtyBehaviour behaviour, long memoryBytes, EffectivePolicy policy, string strategy, double maxBytesPerSecond,
        double? deadlineSeconds = null)
    {
        var untouched = policy with { AllowAutoConverge = false, AllowPostCopy = false };
        bool Converges(double bandwidth) =>
            MigrationForecaster.Forecast(behaviour, memoryBytes, bandwidth, untouched, strategy) is { Outcome: ForecastOutcomes.Converges } forecast
            && (deadlineSeconds is null || forecast.TotalSeconds <= deadlineSeconds);
        if (!Converges(maxBytesPerSecond))
            return maxBytesPerSecond;
        double low = 0, high = maxBytesPerSecond;
        while (high - low > 8 * MiB)
        {
            var middle = (low + high) / 2;
            if (Converges(middle))
                high = middle;
            else
                low = middle;
        }
        return Math.Min(maxBytesPerSecond, high * Headroom);
    }

    /// <summary>
    /// Which waiting migrations start now, and every running one's bandwidth after they do. <paramref name="running"/>
    /// keep their place; <paramref name="maxRunning"/> is the fixed cap.
    /// </summary>
    public static (IReadOnlyList<string> Start, IReadOnlyDictionary<string, double> Bandwidth) Plan(
        IReadOnlyList<LinkDemand> running, IReadOnlyList<LinkDemand> waiting, double linkBytesPerSecond, int maxRunning)
    {
        var chosen = running.ToList();
        var start = new List<string>();
        var committed = running.Sum(r => Math.Min(r.NeededBytesPerSecond, linkBytesPerSecond));
        foreach (var candidate in waiting.OrderByDescending(w => w.Priority).ThenBy(w => w.Deadline ?? DateTimeOffset.MaxValue).ThenBy(w => w.Arrival))
        {
            if (chosen.Count >= maxRunning)
                break;
            var need = Math.Min(candidate.NeededBytesPerSecond, linkBytesPerSecond);
            // Nothing runs: the first always starts, even if it needs more than the whole link (it gets all of it).
            if (chosen.Count > 0 && committed + need > linkBytesPerSecond)
                break;   // in order: a later, smaller one does not overtake it
            chosen.Add(candidate);
            start.Add(candidate.Id);
            committed += need;
        }
        return (start, Share(chosen, linkBytesPerSecond));
    }

    /// <summary>
    /// Each its need; then the rest of the link to the neediest first, each up to its maximum: the more a guest
    /// dirties, the more each extra byte per second saves it in memory sent again; a quiet guest gains nothing from it.
    /// </summary>
    static Dictionary<string, double> Share(IReadOnlyList<LinkDemand> chosen, double link)
    {
        var share = chosen.ToDictionary(c => c.Id, c => Math.Min(c.NeededBytesPerSecond, Math.Min(c.MaxBytesPerSecond, link)));
        var total = share.Values.Sum();
        if (total > link)
            return share.ToDictionary(s => s.Key, s => s.Value * link / total);
        var spare = link - total;
        foreach (var c in chosen.OrderByDescending(c => c.NeededBytesPerSecond))
        {
            var more = Math.Min(spare, c.MaxBytesPerSecond - share[c.Id]);
            share[c.Id] += Math.Max(0, more);
            spare -= Math.Max(0, more);
        }
        return share;
    }
}
