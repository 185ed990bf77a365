using Marten;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// Once the pre-flight check has said how big the VM is, and before any host is touched: forecasts the migration from
/// the VM's own history (<see cref="VmBehaviourHistory"/>) over the policy's bandwidth and records the forecast with its
/// inputs (<see cref="MigrationPredicted"/>). A VM predicted not to converge is rejected when its policy allows nothing
/// else, or starts in post-copy when it asked for hybrid; one predicted to converge starts its downtime ramp where the
/// forecast says it will end, not at the ramp's first step.
/// </summary>
public sealed class PredictActivity(IDocumentSession session) : IStateMachineActivity<MigrationState, PreflightPassed>
{
    const double MiB = 1024 * 1024;

    public async Task Execute(BehaviorContext<MigrationState, PreflightPassed> context, IBehavior<MigrationState, PreflightPassed> next)
    {
        var saga = context.Saga;
        var history = await session.LoadAsync<VmBehaviourHistory>(saga.VmId, context.CancellationToken);
        var behaviour = history?.Behaviour();
        var firstPass = history?.FirstPassBytes();
        var bandwidth = saga.Policy.MaxBandwidthMiBps * MiB;
        if (saga.MemoryBytes <= 0 || bandwidth <= 0)
        {
            await next.Execute(context);
            return;
        }

        saga.LearnedBehaviour = behaviour;
        var forecast = behaviour is null
            ? MigrationForecaster.UpperBound(saga.MemoryBytes, bandwidth, saga.Policy) with
            {
                Reason = "no earlier migration of this VM to learn from: all memory once over the link, downtime at the policy's limit",
            }
            : MigrationForecaster.Forecast(behaviour, saga.MemoryBytes, bandwidth, saga.Policy, saga.Strategy, firstPassBytes: firstPass);
        // Local disks are mirrored, over the same link, before the memory moves: at least their size once more.
        if (saga.DiskBytes > 0)
            forecast = forecast with
            {
                TotalSeconds = forecast.TotalSeconds + saga.DiskBytes / bandwidth,
                Reason = $"{forecast.Reason}; first its local disks, {saga.DiskBytes / MiB:0} MiB mirrored in {saga.DiskBytes / bandwidth:0.#} s",
            };
        var earlier = history?.Samples.Count ?? 0;
        var learned = behaviour is null
            ? string.Empty
            : $" (learned from {earlier} earlier migration{(earlier == 1 ? string.Empty : "s")}: a working set of {behaviour.WorkingSetBytes / MiB:0} MiB "
                + $"rewritten at {behaviour.HotRateBytesPerSecond / MiB:0} MiB/s{FirstPass(firstPass, saga.MemoryBytes)}, over {bandwidth / MiB:0} MiB/s)";
        saga.Record(new MigrationPredicted(saga.CorrelationId, forecast.Outcome, forecast.Rounds, forecast.TotalSeconds, forecast.DowntimeMs,
            forecast.BytesSent, forecast.DowntimeLimitMs, saga.MemoryBytes, (long)bandwidth, earlier, behaviour?.WorkingSetBytes ?? 0,
            (long)(behaviour?.HotRateBytesPerSecond ?? 0), (long)(behaviour?.ColdRateBytesPerSecond ?? 0), behaviour?.RelativeError ?? 0,
            forecast.Reason + learned, DateTimeOffset.UtcNow));

        // A deadline: the forecast must end before it (the upper bound, all memory once, is the least any migration takes).
        if (saga.Deadline is { } deadline)
        {
            var now = DateTimeOffset.UtcNow;
            var end = now.AddSeconds(forecast.TotalSeconds);
            if (end > deadline)
            {
                saga.RejectionCode = RejectionCodes.PredictedToMissDeadline;
                saga.Reason = (deadline <= now
                        ? $"Its deadline {deadline:O} passed while it waited to start."
                        : $"Predicted to end at {end:O}, {forecast.TotalSeconds:0.#} s from now ({forecast.Reason}{learned}), after its deadline {deadline:O}.")
                    + $" Nothing was done; the VM runs on {saga.SourceHost}.";
                await next.Execute(context);
                return;
            }
        }

        if (behaviour is not null)
        {
            switch (forecast.Outcome)
            {
                case ForecastOutcomes.Aborts:
                    saga.RejectionCode = RejectionCodes.PredictedNotToConverge;
                    saga.Reason = $"Predicted not to converge: {forecast.Reason}{learned}. Nothing was done; the VM runs on {saga.SourceHost}. "
                        + "Allow post-copy or auto-converge, give it more bandwidth, or raise the downtime limit.";
                    break;
                case ForecastOutcomes.PostCopy when saga.Strategy == MigrationStrategies.Hybrid:
                    saga.Strategy = MigrationStrategies.PostCopy;
                    saga.Record(saga.PolicyAdjusted(nameof(Policy.ConvergenceAction.SwitchToPostCopy),
                        $"predicted not to converge by pre-copy: {forecast.Reason}{learned}; starting in post-copy"));
                    break;
                case ForecastOutcomes.Converges:
                    saga.FirstDowntimeLimitMs = forecast.DowntimeLimitMs;
                    break;
            }
        }

        await next.Execute(context);
    }

    /// <summary>Said only when the first pass sends less than the memory (pages never written go as zero pages).</summary>
    static string FirstPass(long? bytes, long memoryBytes) =>
        bytes is { } sent && sent < memoryBytes ? $", a first pass of {sent / MiB:0} MiB of {memoryBytes / MiB:0} MiB" : string.Empty;

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, PreflightPassed, TException> context,
        IBehavior<MigrationState, PreflightPassed> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("predict");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
