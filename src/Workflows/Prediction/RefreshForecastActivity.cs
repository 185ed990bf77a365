using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// After each pre-copy round the convergence policy let go on: the forecast made again from where the migration stands
/// (<see cref="MigrationForecastRefreshed"/>). This migration's rounds so far are fitted (<see cref="DirtyBehaviour.Fit"/>)
/// and combined with what the VM's earlier migrations taught (kept on the saga by <see cref="PredictActivity"/>), the
/// current one weighing most, as in <see cref="VmHistory"/>. Nothing is read from the database.
/// </summary>
public sealed class RefreshForecastActivity : IStateMachineActivity<MigrationState, PreCopyRoundCompleted>
{
    public async Task Execute(BehaviorContext<MigrationState, PreCopyRoundCompleted> context, IBehavior<MigrationState, PreCopyRoundCompleted> next)
    {
        var saga = context.Saga;
        var round = context.Message;
        if (saga.MemoryBytes > 0 && round.BandwidthBytesPerSecond > 0 && round.BytesTransferred > 0 && saga.Convergence is { } state
            && saga.Decision?.Action is not (ConvergenceAction.Abort or ConvergenceAction.SwitchToPostCopy))
        {
            saga.Passes.AddRange(VmHistory.Observations([round]));
            saga.TransferSeconds += round.BytesTransferred / (double)round.BandwidthBytesPerSecond;
            saga.TransferBytes += round.BytesTransferred;
            var fits = new List<(DirtyBehaviour Fit, double Weight)>();
            if (saga.LearnedBehaviour is { } learned)
                fits.Add((learned, VmHistory.Decay));
            if (DirtyBehaviour.Fit(saga.Passes, saga.MemoryBytes) is { } current)
                fits.Add((current, 1));
            if (DirtyBehaviour.Combine(fits) is { } behaviour)
            {
                var forecast = MigrationForecaster.Forecast(behaviour, saga.MemoryBytes, round.BandwidthBytesPerSecond, saga.Policy, saga.Strategy,
                    from: new ForecastStart(round.Round, saga.TransferSeconds, saga.TransferBytes, round.BytesRemaining, state));
                saga.Record(new MigrationForecastRefreshed(saga.CorrelationId, round.Round, forecast.Outcome, forecast.Rounds, forecast.TotalSeconds,
                    Math.Max(0, forecast.TotalSeconds - saga.TransferSeconds), forecast.DowntimeMs, forecast.BytesSent, behaviour.WorkingSetBytes,
                    (long)behaviour.HotRateBytesPerSecond, forecast.Reason, DateTimeOffset.UtcNow));
            }
        }
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, PreCopyRoundCompleted, TException> context,
        IBehavior<MigrationState, PreCopyRoundCompleted> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("refresh-forecast");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
