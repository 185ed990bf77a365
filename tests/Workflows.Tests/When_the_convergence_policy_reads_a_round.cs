using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Tests;

public sealed class When_the_convergence_policy_reads_a_round
{
    static readonly ConvergenceSettings Settings = new();
    static readonly EffectivePolicy PreCopyOnly = EffectivePolicy.Defaults with { MaxDowntimeMs = 300, AllowPostCopy = false, AllowAutoConverge = false };

    static PreCopyRoundCompleted Round(int round, long remaining, double expectedDowntimeMs) =>
        new(Guid.Empty, round, 1 << 20, remaining, 100 << 20, 50 << 20, expectedDowntimeMs, DateTimeOffset.UnixEpoch);

    static (ConvergenceState State, List<ConvergenceDecision> Decisions) Run(EffectivePolicy policy, string strategy, IEnumerable<PreCopyRoundCompleted> rounds)
    {
        var state = ConvergenceState.Start(Settings.RampStart(policy.MaxDowntimeMs));
        var decisions = new List<ConvergenceDecision>();
        foreach (var round in rounds)
        {
            var decision = ConvergencePolicyEngine.Evaluate(policy, strategy, state, round, Settings);
            decisions.Add(decision);
            state = decision.State;
        }
        return (state, decisions);
    }

    /// <summary>A guest that never gets below 500 MiB remaining, expecting 2 s of downtime.</summary>
    static IEnumerable<PreCopyRoundCompleted> Stuck(int count) => Enumerable.Range(1, count).Select(r => Round(r, 500L << 20, 2000));

    [Fact]
    public void Should_leave_a_converging_migration_alone()
    {
        var (_, decisions) = Run(PreCopyOnly, MigrationStrategies.PreCopy, [Round(1, 1L << 30, 900), Round(2, 100L << 20, 60)]);

        decisions[^1].Action.ShouldBe(ConvergenceAction.Continue);
    }

    [Fact]
    public void Should_start_the_downtime_limit_low_and_ramp_it_to_the_cap_in_steps()
    {
        // Remaining keeps shrinking, slowly: no stall, but the expected downtime stays above the limit.
        var rounds = Enumerable.Range(1, 12).Select(r => Round(r, (1000L - r * 50) << 20, 400));

        var (state, decisions) = Run(PreCopyOnly, MigrationStrategies.PreCopy, rounds);

        Settings.RampStart(300).ShouldBe(75);
        var raises = decisions.Where(d => d.Action == ConvergenceAction.RaiseDowntime).Select(d => d.State.DowntimeLimitMs).ToList();
        raises.ShouldBe([150, 225, 300]);
        state.DowntimeLimitMs.ShouldBe(300);
    }

    [Fact]
    public void Should_switch_a_stalled_hybrid_migration_to_post_copy_when_allowed()
    {
        var (_, decisions) = Run(PreCopyOnly with { AllowPostCopy = true }, MigrationStrategies.Hybrid, Stuck(Settings.StallWindowRounds + 1));

        decisions.ShouldContain(d => d.Action == ConvergenceAction.SwitchToPostCopy);
        decisions.ShouldNotContain(d => d.Action == ConvergenceAction.Abort);
    }

    [Fact]
    public void Should_raise_then_throttle_in_steps_then_abort_when_nothing_else_is_allowed()
    {
        var (state, decisions) = Run(PreCopyOnly with { AllowAutoConverge = true }, MigrationStrategies.PreCopy, Stuck(200));

        var actions = decisions.Select(d => d.Action).Where(a => a != ConvergenceAction.Continue).ToList();
        actions[0].ShouldBe(ConvergenceAction.RaiseDowntime);
        var throttles = decisions.Where(d => d.Action == ConvergenceAction.Throttle).Select(d => d.State.ThrottlePercent).ToList();
        throttles.First().ShouldBe(20);
        throttles.Last().ShouldBe(99);
        throttles.ShouldBeInOrder(SortDirection.Ascending);
        actions.ShouldContain(ConvergenceAction.Abort);
        decisions.First(d => d.Action == ConvergenceAction.Abort).Reason.ShouldContain("post-copy not allowed");
        state.DowntimeLimitMs.ShouldBe(300);
    }

    [Fact]
    public void Should_abort_without_throttling_when_auto_converge_is_not_allowed()
    {
        var (_, decisions) = Run(PreCopyOnly, MigrationStrategies.PreCopy, Stuck(40));

        decisions.ShouldNotContain(d => d.Action == ConvergenceAction.Throttle);
        decisions.First(d => d.Action == ConvergenceAction.Abort).Reason.ShouldContain("auto-converge not allowed");
    }
}
