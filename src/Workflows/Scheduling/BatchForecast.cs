using Orchestrator.Contracts;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;

namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// Forecasts a batch of migrations that share one link (a drain: every VM leaves the same host). Who starts and with
/// how much bandwidth: the fixed limits as admission applies them today (in order, up to <c>maxRunning</c> at once, the
/// link split evenly, each at most its policy's bandwidth), or the <see cref="LinkScheduler"/>. Each one's forecast at
/// its bandwidth says when it ends, and the link is planned again as each ends. A VM with no history is forecast at the upper bound (all its
/// memory once). Pure: nothing is started.
/// </summary>
public static class BatchForecast
{
    public sealed record Candidate(string VmId, string TargetHost, long MemoryBytes, DirtyBehaviour? Behaviour, int EarlierMigrations,
        long? FirstPassBytes = null);

    public static (IReadOnlyList<PlannedMigration> Migrations, double TotalSeconds) Plan(IReadOnlyList<Candidate> candidates, EffectivePolicy policy,
        double linkBytesPerSecond, int maxRunning, bool linkAware = false)
    {
        var max = policy.MaxBandwidthMiBps * 1024.0 * 1024;
        var cap = Math.Max(1, maxRunning);
        var needs = candidates.ToDictionary(c => c.VmId, c => !linkAware || c.Behaviour is null
            ? max
            : LinkScheduler.NeededBandwidth(c.Behaviour, c.MemoryBytes, policy, MigrationStrategies.PreCopy, max));
        var waiting = candidates.ToList();
        // Each running one: the bytes its forecast sends (at the bandwidth it starts with) and how many are left; the
        // link is shared again whenever one starts or ends, as QEMU's max-bandwidth follows the plan at once.
        var running = new List<(Candidate Vm, int Index, double Left, double Share)>();
        var planned = new List<PlannedMigration>();
        double now = 0;
        while (waiting.Count > 0 || running.Count > 0)
        {
            var (start, bandwidth) = linkAware
                ? LinkScheduler.Plan(
                    [.. running.Select(r => new LinkDemand(r.Vm.VmId, needs[r.Vm.VmId], max))],
                    [.. waiting.Select((w, i) => new LinkDemand(w.VmId, needs[w.VmId], max, Arrival: i))], linkBytesPerSecond, cap)
                : FixedLimits(running.Select(r => r.Vm.VmId), waiting, linkBytesPerSecond, cap, max);
            foreach (var id in start)
            {
                var vm = waiting.First(w => w.VmId == id);
                waiting.Remove(vm);
                var share = Math.Max(1, bandwidth[id]);
                var forecast = vm.Behaviour is null
                    ? MigrationForecaster.UpperBound(vm.MemoryBytes, share, policy)
                    : MigrationForecaster.Forecast(vm.Behaviour, vm.MemoryBytes, share, policy, MigrationStrategies.PreCopy,
                        firstPassBytes: vm.FirstPassBytes);
                planned.Add(new PlannedMigration(vm.VmId, vm.TargetHost, planned.Count + 1, share, now, now,
                    forecast.DowntimeMs, forecast.Outcome, vm.EarlierMigrations));
                running.Add((vm, planned.Count - 1, forecast.BytesSent, share));
            }
            running = [.. running.Select(r => r with { Share = Math.Max(1, bandwidth[r.Vm.VmId]) })];
            if (running.Count == 0)
                break;
            var step = running.Min(r => r.Left / r.Share);
            now += step;
            running = [.. running.Select(r => r with { Left = r.Left - r.Share * step })];
            foreach (var ended in running.Where(r => r.Left <= 1).ToList())
            {
                var migration = planned[ended.Index];
                planned[ended.Index] = migration with { EndSeconds = now + migration.DowntimeMs / 1000 };
                running.Remove(ended);
            }
        }
        return (planned, planned.Count == 0 ? 0 : planned.Max(p => p.EndSeconds));
    }

    /// <summary>Today's admission: in order up to the cap, the link split evenly among all running, each at most its policy's bandwidth.</summary>
    static (IReadOnlyList<string>, IReadOnlyDictionary<string, double>) FixedLimits(IEnumerable<string> running, IReadOnlyList<Candidate> waiting,
        double link, int maxRunning, double max)
    {
        var all = running.ToList();
        var start = waiting.Take(Math.Max(0, maxRunning - all.Count)).Select(w => w.VmId).ToList();
        all.AddRange(start);
        var share = Math.Min(max, link / Math.Max(1, all.Count));
        return (start, all.ToDictionary(id => id, _ => share));
    }
}
