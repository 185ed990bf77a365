using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Bench;

/// <summary>
/// A drain of 50 VMs off one host whose uplink every outgoing migration shares, played out on the sim's
/// model twice: with today's fixed limits (2 outbound per host, as KubeVirt; the link split evenly between them, each
/// at most its policy's 1,024 MiB/s) and with the link-aware scheduler (a migration starts when the link has the
/// bandwidth its forecast needs, in order; the spare is shared out; at most 5 at once, the cluster's fixed limit). The
/// forecasts come from five earlier migrations of each VM. A migration runs pass by pass at the bandwidth it holds when
/// the pass begins; each round goes through the saga's convergence policy (defaults: 300 ms, auto-converge allowed). An
/// SLO miss is a migration whose guest had to be throttled or that was aborted.
/// </summary>
public static class DrainSchedule
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;
    static readonly EffectivePolicy Policy = EffectivePolicy.Defaults;

    public sealed record Result(double Seconds, int SloMisses, int Migrations, int MostAtOnce, double MemoryBytes);

    sealed class Running(SimVm vm, ulong seed)
    {
        public SimVm Vm { get; } = vm;
        public PreCopyRun Run { get; } = new(vm, SimProfiles.Generic, new SimRandom(seed));
        public ConvergenceState State { get; set; } = ConvergenceState.Start(new ConvergenceSettings().RampStart(Policy.MaxDowntimeMs));
        public double Bandwidth { get; set; }
        public double PassBytes { get; set; }
        public double BytesLeft { get; set; }
        public double PassStart { get; set; }
        public bool Throttled { get; set; }
    }

    public static (Result LinkAware, Result FixedLimit, Result FixedLimitAtFive) Run(double linkBitsPerSecond)
    {
        var link = linkBitsPerSecond / 8;
        var vms = Fleet().ToList();
        var needs = vms.ToDictionary(v => v.VmId, v =>
        {
            var history = Enumerable.Range(0, 5).Select(m =>
                (IReadOnlyList<PreCopyRoundCompleted>)Prediction.Migrate("drain", v, 1024 * MiB, Policy, MigrationStrategies.PreCopy, (ulong)(77 + m)).Rounds).ToList();
            var behaviour = VmHistory.Learn(history, v.MemoryBytes)!;
            return LinkScheduler.NeededBandwidth(behaviour, v.MemoryBytes, Policy, MigrationStrategies.PreCopy, Policy.MaxBandwidthMiBps * (double)MiB);
        });
        var max = Policy.MaxBandwidthMiBps * (double)MiB;
        var linkAware = Simulate(vms, (running, waiting) => LinkScheduler.Plan(
            [.. running.Select(r => new LinkDemand(r.Vm.VmId, needs[r.Vm.VmId], max))],
            [.. waiting.Select((w, i) => new LinkDemand(w.VmId, needs[w.VmId], max, Arrival: i))], link, maxRunning: 5));
        return (linkAware, Simulate(vms, (running, waiting) => Fixed(running, waiting, 2)), Simulate(vms, (running, waiting) => Fixed(running, waiting, 5)));

        (IReadOnlyList<string>, IReadOnlyDictionary<string, double>) Fixed(IReadOnlyList<Running> running, IReadOnlyList<SimVm> waiting, int limit)
        {
            var start = waiting.Take(Math.Max(0, limit - running.Count)).Select(w => w.VmId).ToList();
            var all = running.Select(r => r.Vm.VmId).Concat(start).ToList();
            return (start, all.ToDictionary(id => id, _ => Math.Min(max, link / all.Count)));
        }
    }

    /// <summary>The drained host's VMs, largest first as the drain planner orders them: ten each of five kinds.</summary>
    static IEnumerable<SimVm> Fleet()
    {
        for (var i = 0; i < 10; i++)
        {
            var spread = 0.7 + 0.06 * i;
            yield return new SimVm($"idle-{i}", (1 + i % 4) * GiB, 32 * MiB, (long)(2 * MiB * spread));
            yield return new SimVm($"web-{i}", (2 + i % 3) * GiB, (long)(256 * MiB * spread), (long)(40 * MiB * spread));
            yield return new SimVm($"db-{i}", (4 + 2 * (i % 3)) * GiB, (long)(1 * GiB * spread), (long)(150 * MiB * spread));
            yield return new SimVm($"busy-{i}", 4 * GiB, (long)(1 * GiB * spread), (long)(500 * MiB * spread));
            yield return new SimVm($"bursty-{i}", (2 + i % 3) * GiB, (long)(512 * MiB * spread), (long)(30 * MiB * spread))
            {
                BurstAfterSeconds = 2 + i % 3,
                BurstDirtyRateBytesPerSecond = (long)(300 * MiB * spread),
            };
        }
    }

    /// <summary>
    /// Event by event: between two events every running migration sends at the bandwidth it holds (changed at once when
    /// the plan changes, as QEMU's max-bandwidth is); a pass ends when its bytes are sent, and the sim's model then draws
    /// what the guest dirtied over the pass's real length.
    /// </summary>
    static Result Simulate(IReadOnlyList<SimVm> fleet,
        Func<IReadOnlyList<Running>, IReadOnlyList<SimVm>, (IReadOnlyList<string> Start, IReadOnlyDictionary<string, double> Bandwidth)> plan)
    {
        var waiting = fleet.OrderByDescending(v => v.MemoryBytes).ThenBy(v => v.VmId, StringComparer.Ordinal).ToList();
        var running = new List<Running>();
        var settings = new ConvergenceSettings();
        double now = 0, end = 0;
        int misses = 0, mostAtOnce = 0;
        var seed = 1000UL;

        void Replan()
        {
            var (start, bandwidth) = plan(running, waiting);
            foreach (var id in start)
            {
                var vm = waiting.First(w => w.VmId == id);
                waiting.Remove(vm);
                var started = new Running(vm, seed++);
                Begin(started);
                running.Add(started);
            }
            mostAtOnce = Math.Max(mostAtOnce, running.Count);
            foreach (var r in running)
                r.Bandwidth = Math.Max(1, bandwidth[r.Vm.VmId]);
        }

        void Begin(Running r)
        {
            r.PassBytes = r.BytesLeft = r.Run.RemainingBytes;
            r.PassStart = now;
        }

        Replan();
        while (running.Count > 0)
        {
            var next = running.MinBy(r => r.BytesLeft / r.Bandwidth)!;
            var step = next.BytesLeft / next.Bandwidth;
            foreach (var r in running)
                r.BytesLeft = Math.Max(0, r.BytesLeft - r.Bandwidth * step);
            now += step;
            var seconds = Math.Max(1e-6, now - next.PassStart);
            var pass = next.Run.Next((long)Math.Max(1, next.PassBytes / seconds), next.State.DowntimeLimitMs, next.State.ThrottlePercent);
            if (pass.IsLast)
            {
                running.Remove(next);
                end = Math.Max(end, now + pass.ExpectedDowntimeMs / 1000);
                misses += next.Throttled ? 1 : 0;
                Replan();
                continue;
            }
            var round = new PreCopyRoundCompleted(Guid.Empty, pass.Round, pass.BytesSent, pass.BytesRemaining, pass.DirtyRateBytesPerSecond,
                (long)(next.PassBytes / seconds), pass.ExpectedDowntimeMs, DateTimeOffset.UnixEpoch, pass.ThrottlePercent);
            var decision = ConvergencePolicyEngine.Evaluate(Policy, MigrationStrategies.PreCopy, next.State, round, settings);
            next.State = decision.State;
            next.Throttled |= decision.State.ThrottlePercent > 0;
            if (decision.Action == ConvergenceAction.Abort)
            {
                running.Remove(next);
                misses++;
                end = Math.Max(end, now);
            }
            else
            {
                Begin(next);
            }
            Replan();
        }
        return new(end, misses, fleet.Count, mostAtOnce, fleet.Sum(v => (double)v.MemoryBytes));
    }
}
