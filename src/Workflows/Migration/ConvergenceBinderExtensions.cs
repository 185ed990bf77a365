using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Migration;

/// <summary>The convergence policy in the state machine: start the ramp, evaluate each round, record the decision, carry it out.</summary>
public static class ConvergenceBinderExtensions
{
    static readonly ConvergenceSettings Settings = new();

    /// <summary>
    /// The transfer begins at the first step of the downtime ramp, or where the prediction foresaw the ramp would end
    /// (never above the cap); <see cref="WorkerCommands.BeginTransfer"/> sends it.
    /// </summary>
    public static EventActivityBinder<MigrationState, T> StartConvergence<T>(this EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder.Then(context => context.Saga.Convergence = ConvergenceState.Start(
            Math.Min(context.Saga.Policy.MaxDowntimeMs,
                Math.Max(Settings.RampStart(context.Saga.Policy.MaxDowntimeMs), context.Saga.FirstDowntimeLimitMs ?? 0))));

    public static EventActivityBinder<MigrationState, PreCopyRoundCompleted> ApplyConvergencePolicy(
        this EventActivityBinder<MigrationState, PreCopyRoundCompleted> binder) =>
        binder
            .Then(context =>
            {
                var saga = context.Saga;
                var decision = ConvergencePolicyEngine.Evaluate(saga.Policy, saga.Strategy,
                    saga.Convergence ?? ConvergenceState.Start(saga.Policy.MaxDowntimeMs),
                    context.Message, Settings);
                saga.Convergence = decision.State;
                saga.Decision = decision;
                if (decision.Action != ConvergenceAction.Continue)
                    saga.Record(saga.PolicyAdjusted(decision.Action.ToString(), decision.Reason));
            })
            .If(context => context.Saga.Decision?.Action is ConvergenceAction.RaiseDowntime or ConvergenceAction.Throttle, adjust => adjust
                .SendToWorker(saga => saga.SourceHost, saga => saga.AdjustTransfer(saga.Convergence!.DowntimeLimitMs, saga.Convergence.ThrottlePercent)))
            .If(context => context.Saga.Decision?.Action is ConvergenceAction.SwitchToPostCopy, postCopy => postCopy
                .SendToWorker(saga => saga.SourceHost, saga => saga.SwitchToPostCopy()));

    /// <summary>Force-complete: post-copy where allowed, else the downtime limit goes straight to the policy's cap.</summary>
    public static EventActivityBinder<MigrationState, ForceCompleteMigration> ForceCompletion(
        this EventActivityBinder<MigrationState, ForceCompleteMigration> binder) =>
        binder
            .Then(context =>
            {
                var saga = context.Saga;
                var state = saga.Convergence ?? ConvergenceState.Start(saga.Policy.MaxDowntimeMs);
                var postCopy = saga.Policy.AllowPostCopy;
                var cap = saga.Policy.MaxDowntimeMs;
                saga.Convergence = postCopy ? state with { PostCopyRequested = true } : state with { DowntimeLimitMs = cap };
                var action = postCopy ? ConvergenceAction.SwitchToPostCopy : ConvergenceAction.RaiseDowntime;
                var by = context.Message.RequestedBy is { Length: > 0 } who ? $" by {who}" : string.Empty;
                saga.Record(saga.PolicyAdjusted(action.ToString(),
                    postCopy ? $"force-complete requested{by}: switching to post-copy" : $"force-complete requested{by}: downtime limit raised to the cap {cap} ms"));
            })
            .IfElse(context => context.Saga.Convergence!.PostCopyRequested,
                postCopy => postCopy.SendToWorker(saga => saga.SourceHost, saga => saga.SwitchToPostCopy()),
                raise => raise.SendToWorker(saga => saga.SourceHost, saga => saga.AdjustTransfer(saga.Convergence!.DowntimeLimitMs)));
}
