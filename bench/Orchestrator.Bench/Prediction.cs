using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;

namespace Orchestrator.Bench;

/// <summary>
/// How well the predictor forecasts a migration before it starts, on the sim's model: a fleet of VMs of five kinds
/// (idle, web, database-like, hot, bursty), each migrated <see cref="EarlierMigrations"/> times first (the history the
/// predictor learns from), then once more: that migration is forecast from the history alone and compared with what
/// happened. A migration is played out as the orchestrator runs one: the sim's pre-copy passes (random page draws, a
/// seed per migration), each round fed to the saga's <see cref="ConvergencePolicyEngine"/>, whose decisions apply to
/// the next pass. The baseline is today's pre-flight figure: memory over bandwidth, and the policy's downtime limit.
/// </summary>
public static class Prediction
{
    const int EarlierMigrations = 5;
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;

    public sealed record Outcome(string Kind, string Ending, double TotalSeconds, double DowntimeMs, IReadOnlyList<PreCopyRoundCompleted> Rounds);

    public sealed record Compared(string Kind, Outcome Actual, MigrationForecast Predicted, MigrationForecast Baseline)
    {
        public double TotalError(MigrationForecast forecast) => Math.Abs(forecast.TotalSeconds - Actual.TotalSeconds) / Actual.TotalSeconds;

        public double DowntimeError(MigrationForecast forecast) => Math.Abs(forecast.DowntimeMs - Actual.DowntimeMs) / Actual.DowntimeMs;
    }

    public static IReadOnlyList<Compared> Run(int vmsPerKind = 10)
    {
        var results = new List<Compared>();
        for (var i = 0; i < vmsPerKind; i++)
        {
            foreach (var (kind, vm, strategy, policy) in Fleet(i))
            {
                var bandwidth = (i % 3) switch { 0 => 1024 * MiB, 1 => 512 * MiB, _ => 256 * MiB };
                var history = new List<IReadOnlyList<PreCopyRoundCompleted>>();
                for (var m = 0; m < EarlierMigrations; m++)
                    history.Add(Migrate(kind, Workload(vm, i, m), bandwidth, policy, strategy, seed: (ulong)(1000 * i + m)).Rounds);
                var actual = Migrate(kind, Workload(vm, i, EarlierMigrations), bandwidth, policy, strategy, seed: (ulong)(1000 * i + EarlierMigrations));
                var behaviour = VmHistory.Learn(history, vm.MemoryBytes)!;
                results.Add(new(kind, actual, MigrationForecaster.Forecast(behaviour, vm.MemoryBytes, bandwidth, policy, strategy),
                    MigrationForecaster.UpperBound(vm.MemoryBytes, bandwidth, policy)));
            }
        }
        return results;
    }

    /// <summary>
    /// The VM as it behaves during its m-th migration: a guest's load is never the same twice, so its write rates vary by
    /// up to ±25 % and its working set by up to ±15 % from one migration to the next (seeded: every run alike).
    /// </summary>
    static SimVm Workload(SimVm vm, int i, int m)
    {
        var random = new Random(unchecked(7919 * i + 104729 * m + vm.VmId.Sum(c => c)));
        var rates = 0.75 + 0.5 * random.NextDouble();
        var workingSet = 0.85 + 0.3 * random.NextDouble();
        return vm with
        {
            DirtyRateBytesPerSecond = (long)(vm.DirtyRateBytesPerSecond * rates),
            WorkingSetBytes = (long)(vm.WorkingSetBytes * workingSet),
            BurstDirtyRateBytesPerSecond = (long)(vm.BurstDirtyRateBytesPerSecond * rates),
        };
    }

    /// <summary>The i-th VM of each kind; sizes and rates vary with i so no two are alike.</summary>
    static IEnumerable<(string Kind, SimVm Vm, string Strategy, EffectivePolicy Policy)> Fleet(int i)
    {
        var spread = 0.7 + 0.06 * i;
        var hybrid = EffectivePolicy.Defaults with { AllowPostCopy = true };
        yield return ("idle", new SimVm($"idle-{i}", (1 + i % 4) * GiB, 32 * MiB, (long)(2 * MiB * spread)), MigrationStrategies.PreCopy,
            EffectivePolicy.Defaults);
        yield return ("web", new SimVm($"web-{i}", (2 + i % 3) * GiB, (long)(256 * MiB * spread), (long)(40 * MiB * spread)),
            MigrationStrategies.PreCopy, EffectivePolicy.Defaults);
        yield return ("database", new SimVm($"db-{i}", (4 + 2 * (i % 3)) * GiB, (long)(1 * GiB * spread), (long)(150 * MiB * spread)),
            MigrationStrategies.PreCopy, EffectivePolicy.Defaults);
        yield return ("hot", new SimVm($"hot-{i}", 4 * GiB, (long)(2 * GiB * spread), (long)(1200 * MiB * spread)), MigrationStrategies.Hybrid, hybrid);
        yield return ("bursty", new SimVm($"bursty-{i}", (2 + i % 3) * GiB, (long)(512 * MiB * spread), (long)(30 * MiB * spread))
        {
            BurstAfterSeconds = 2 + i % 3,
            BurstDirtyRateBytesPerSecond = (long)(300 * MiB * spread),
        }, MigrationStrategies.PreCopy, EffectivePolicy.Defaults);
    }

    /// <summary>One migration as the orchestrator runs it on the sim: passes, the policy engine after each, post-copy or abort when it says so.</summary>
    public static Outcome Migrate(string kind, SimVm vm, long bandwidth, EffectivePolicy policy, string strategy, ulong seed)
    {
        var profile = SimProfiles.Generic;
        var run = new PreCopyRun(vm, profile, new SimRandom(seed));
        var settings = new ConvergenceSettings();
        var state = ConvergenceState.Start(settings.RampStart(policy.MaxDowntimeMs));
        var rounds = new List<PreCopyRoundCompleted>();
        var rate = profile.MemoryRate(bandwidth);
        while (true)
        {
            var pass = run.Next(bandwidth, state.DowntimeLimitMs, state.ThrottlePercent);
            rounds.Add(new PreCopyRoundCompleted(Guid.Empty, pass.Round, pass.BytesSent, pass.BytesRemaining, pass.DirtyRateBytesPerSecond,
                (long)rate, pass.ExpectedDowntimeMs, DateTimeOffset.UnixEpoch, pass.ThrottlePercent));
            if (pass.IsLast)
                return new(kind, ForecastOutcomes.Converges, run.ElapsedSeconds + pass.ExpectedDowntimeMs / 1000, pass.ExpectedDowntimeMs, rounds);
            var decision = ConvergencePolicyEngine.Evaluate(policy, strategy, state, rounds[^1], settings);
            state = decision.State;
            if (decision.Action == ConvergenceAction.SwitchToPostCopy)
            {
                var (hot, cold) = run.Missing;
                var pages = PostCopyModel.Run(vm, hot, cold, rate, run.Random);
                var pause = profile.DeviceStateBytes / rate;
                return new(kind, ForecastOutcomes.PostCopy, run.ElapsedSeconds + pause + pages.Seconds, pause * 1000, rounds);
            }
            if (decision.Action == ConvergenceAction.Abort)
                return new(kind, ForecastOutcomes.Aborts, run.ElapsedSeconds, pass.ExpectedDowntimeMs, rounds);
        }
    }
}
