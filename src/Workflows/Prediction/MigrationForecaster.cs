using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// Forecasts a migration by playing it out: the expected pre-copy passes of a VM with the learned
/// <see cref="DirtyBehaviour"/> over the link, each fed to the same <see cref="ConvergencePolicyEngine"/> the saga runs,
/// whose decisions (raise the downtime limit, throttle, post-copy, abort) shape the passes that follow. Pure.
/// </summary>
public static class MigrationForecaster
{
    /// <summary>CPU and device state sent while the VM is paused, on top of the remaining pages.</summary>
    public const long DeviceStateBytes = 256 * 1024;

    const int MaxRounds = 1000;

    /// <param name="firstPassBytes">What the first pass sends, as learned (<see cref="VmBehaviourHistory.FirstPassBytes"/>); else all the memory.</param>
    /// <param name="from">Where a running migration stands (after its reported rounds): the forecast plays out the rest from there.</param>
    public static MigrationForecast Forecast(DirtyBehaviour behaviour, long memoryBytes, double bandwidthBytesPerSecond, EffectivePolicy policy,
        string strategy, ConvergenceSettings? settings = null, long? firstPassBytes = null, ForecastStart? from = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bandwidthBytesPerSecond);
        settings ??= new ConvergenceSettings();
        var state = from?.State ?? ConvergenceState.Start(settings.RampStart(policy.MaxDowntimeMs));
        double elapsed = from?.ElapsedSeconds ?? 0, sent = from?.BytesSent ?? 0;
        double toSend = from is not null ? Math.Min(memoryBytes, from.BytesRemaining)
            : firstPassBytes is > 0 ? Math.Min(memoryBytes, firstPassBytes.Value) : memoryBytes;
        if (strategy == MigrationStrategies.PostCopy && from is null)
            return PostCopy(0, 0, memoryBytes, bandwidthBytesPerSecond, 0, "post-copy from the start");

        for (var round = (from?.Round ?? 0) + 1; round <= MaxRounds; round++)
        {
            var seconds = toSend / bandwidthBytesPerSecond;
            var dirty = Math.Min(memoryBytes, behaviour.Dirtied(seconds, state.ThrottlePercent));
            elapsed += seconds;
            sent += toSend;
            toSend = dirty;
            var downtimeMs = (dirty + DeviceStateBytes) * 1000 / bandwidthBytesPerSecond;
            if (downtimeMs <= state.DowntimeLimitMs)
                return new(ForecastOutcomes.Converges, round, elapsed + downtimeMs / 1000, downtimeMs, (long)(sent + dirty + DeviceStateBytes),
                    $"pre-copy converges in {round} rounds: {dirty / Mib:0} MiB left, {downtimeMs:0} ms within the limit {state.DowntimeLimitMs} ms",
                    state.DowntimeLimitMs);

            var report = new PreCopyRoundCompleted(Guid.Empty, round, (long)toSend, (long)dirty, (long)(dirty / seconds), (long)bandwidthBytesPerSecond,
                downtimeMs, DateTimeOffset.UnixEpoch, state.ThrottlePercent);
            var decision = ConvergencePolicyEngine.Evaluate(policy, strategy, state, report, settings);
            state = decision.State;
            switch (decision.Action)
            {
                case ConvergenceAction.SwitchToPostCopy:
                    return PostCopy(round, elapsed, dirty, bandwidthBytesPerSecond, sent, decision.Reason);
                case ConvergenceAction.Abort:
                    return new(ForecastOutcomes.Aborts, round, elapsed, downtimeMs, (long)sent, decision.Reason, state.DowntimeLimitMs);
            }
        }
        return new(ForecastOutcomes.Aborts, MaxRounds, elapsed, toSend * 1000 / bandwidthBytesPerSecond, (long)sent,
            $"no convergence within {MaxRounds} rounds");
    }

    /// <summary>Post-copy after <paramref name="rounds"/>: a pause for the device state, then the rest fetched at the link's rate.</summary>
    static MigrationForecast PostCopy(int rounds, double elapsed, double remaining, double bandwidth, double sent, string reason)
    {
        var downtimeMs = DeviceStateBytes * 1000.0 / bandwidth;
        return new(ForecastOutcomes.PostCopy, rounds, elapsed + (remaining + DeviceStateBytes) / bandwidth, downtimeMs,
            (long)(sent + remaining + DeviceStateBytes), reason);
    }

    /// <summary>Today's pre-flight figure: all memory once over the link, and the policy's downtime limit as the downtime.</summary>
    public static MigrationForecast UpperBound(long memoryBytes, double bandwidthBytesPerSecond, EffectivePolicy policy) =>
        new(ForecastOutcomes.Converges, 1, memoryBytes / bandwidthBytesPerSecond, policy.MaxDowntimeMs, memoryBytes,
            "memory over bandwidth; downtime at the policy's limit", policy.MaxDowntimeMs);

    const double Mib = 1024 * 1024;
}

/// <summary>
/// A running migration's place, for a forecast of the rest: <see cref="Round"/> rounds reported, taking
/// <see cref="ElapsedSeconds"/> and sending <see cref="BytesSent"/>, <see cref="BytesRemaining"/> dirty now, and the
/// convergence policy's state after them.
/// </summary>
public sealed record ForecastStart(int Round, double ElapsedSeconds, double BytesSent, long BytesRemaining, ConvergenceState State);
