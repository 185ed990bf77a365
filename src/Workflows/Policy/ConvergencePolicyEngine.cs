using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Policy;

/// <summary>
/// Reads each pre-copy round and decides what the migration needs: nothing, a higher downtime limit (a ramp from low
/// to the cap, or the cap at once when it stalls), post-copy (when allowed), vCPU throttling (auto-converge, when
/// allowed), or an abort. Pure: the same rounds always give the same decisions.
/// </summary>
public static class ConvergencePolicyEngine
{
    public static ConvergenceDecision Evaluate(
        EffectivePolicy policy, string strategy, ConvergenceState state, PreCopyRoundCompleted round, ConvergenceSettings settings)
    {
        var cap = policy.MaxDowntimeMs;
        var progressed = round.BytesRemaining < state.BestRemainingBytes * (1 - settings.ProgressFraction);
        state = state with
        {
            BestRemainingBytes = Math.Min(state.BestRemainingBytes, round.BytesRemaining),
            RoundsWithoutProgress = progressed ? 0 : state.RoundsWithoutProgress + 1,
            RoundsSinceRamp = state.RoundsSinceRamp + 1,
        };

        if (state.PostCopyRequested || round.ExpectedDowntimeMs <= state.DowntimeLimitMs)
            return new(ConvergenceAction.Continue, "converging", state);

        if (state.RoundsWithoutProgress >= settings.StallWindowRounds)
            return Stalled(policy, strategy, state with { RoundsWithoutProgress = 0 }, round, settings, cap);

        if (state.RoundsSinceRamp >= settings.RampEveryRounds && state.DowntimeLimitMs < cap)
        {
            var raised = Math.Min(cap, state.DowntimeLimitMs + settings.RampStep(cap));
            return new(ConvergenceAction.RaiseDowntime,
                $"downtime ramp: expected {round.ExpectedDowntimeMs:0} ms exceeds the limit {state.DowntimeLimitMs} ms; raised to {raised} ms",
                state with { DowntimeLimitMs = raised, RoundsSinceRamp = 0 });
        }

        return new(ConvergenceAction.Continue, "not converged yet; within the ramp's patience", state);
    }

    /// <summary>Remaining bytes stopped shrinking: post-copy if allowed, else the downtime cap, else throttling, else abort.</summary>
    static ConvergenceDecision Stalled(EffectivePolicy policy, string strategy, ConvergenceState state, PreCopyRoundCompleted round,
        ConvergenceSettings settings, int cap)
    {
        var stall = $"stalled: {round.BytesRemaining} bytes remaining, no new low in {settings.StallWindowRounds} rounds, "
            + $"dirty rate {round.DirtyRateBytesPerSecond} B/s against {round.BandwidthBytesPerSecond} B/s";

        if (policy.AllowPostCopy && strategy is MigrationStrategies.Hybrid or MigrationStrategies.PostCopy)
            return new(ConvergenceAction.SwitchToPostCopy, $"{stall}; switching to post-copy", state with { PostCopyRequested = true });

        if (state.DowntimeLimitMs < cap)
            return new(ConvergenceAction.RaiseDowntime, $"{stall}; downtime limit raised to the cap {cap} ms",
                state with { DowntimeLimitMs = cap, RoundsSinceRamp = 0 });

        if (policy.AllowAutoConverge && state.ThrottlePercent < settings.ThrottleMaxPercent)
        {
            var throttle = state.ThrottlePercent == 0
                ? settings.ThrottleStartPercent
                : Math.Min(settings.ThrottleMaxPercent, state.ThrottlePercent + settings.ThrottleStepPercent);
            return new(ConvergenceAction.Throttle, $"{stall}; auto-converge throttles the vCPUs to {throttle} %", state with { ThrottlePercent = throttle });
        }

        var options = policy.AllowAutoConverge ? "downtime at its cap, vCPUs throttled to the maximum" : "downtime at its cap, auto-converge not allowed";
        return new(ConvergenceAction.Abort, $"{stall}; {options}, post-copy not allowed: aborting", state);
    }
}
