using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// No silent wait: every state that waits for a worker has a durable timeout. A timed-out step is retried (idempotent
/// commands), rolled back (before the switchover) or failed with a reason an operator can act on; never left running.
/// </summary>
public sealed partial class MigrationStateMachine
{
    public Schedule<MigrationState, StepTimedOut> StepTimeout { get; private set; } = null!;
    public Schedule<MigrationState, CompletionTimedOut> CompletionTimeout { get; private set; } = null!;
    public Event<StepHeartbeat> Heartbeat { get; private set; } = null!;

    void DeclareTimeouts()
    {
        Schedule(() => StepTimeout, saga => saga.StepTimeoutTokenId, s => s.Received = r => r.CorrelateById(m => m.Message.MigrationId));
        Schedule(() => CompletionTimeout, saga => saga.CompletionTimeoutTokenId, s => s.Received = r => r.CorrelateById(m => m.Message.MigrationId));
        Correlate(() => Heartbeat, m => m.MigrationId);
    }

    void ConfigureTimeouts(TimeoutOptions timeouts)
    {
        Arm(Preparing, _ => timeouts.Prepare);
        Arm(PreCopying, ProgressTimeout);
        Arm(SwitchingOver, _ => timeouts.Switchover);
        Arm(PostCopying, ProgressTimeout);
        Arm(CleaningUp, _ => timeouts.Cleanup);
        Arm(RollingBack, _ => timeouts.Rollback);
        Arm(DestroyingTarget, _ => timeouts.Rollback);
        foreach (var terminal in Terminal)
            WhenEnter(terminal, x => x.Unschedule(StepTimeout).Unschedule(CompletionTimeout));

        During(PreCopying, PostCopying,
            When(Heartbeat).Schedule(StepTimeout, context => new StepTimedOut(context.Saga.CorrelationId, context.Saga.CurrentState),
                context => ProgressTimeout(context.Saga)));

        During(Preparing,
            RollBack(When(StepTimeout.Received), saga => $"The target host {saga.TargetHost} did not confirm it was prepared within {timeouts.Prepare.TotalSeconds:0} s."));
        During(PreCopying,
            RollBack(When(StepTimeout.Received), saga => $"No progress from the source host {saga.SourceHost} for {ProgressTimeout(saga).TotalSeconds:0} s: "
                    + "its worker may be down."),
            When(CompletionTimeout.Received)
                .Then(context => context.Saga.Record(new MigrationPolicyAdjusted(context.Saga.CorrelationId,
                    context.Saga.Policy.AllowPostCopy == true ? nameof(ConvergenceAction.SwitchToPostCopy) : nameof(ConvergenceAction.Abort),
                    $"completion timeout: pre-copy ran longer than {CompletionTimeoutFor(context.Saga).TotalSeconds:0} s "
                    + $"({context.Saga.Policy.CompletionTimeoutSecondsPerGiB} s per GiB of memory)",
                    context.Saga.Convergence?.DowntimeLimitMs ?? 0, context.Saga.Convergence?.ThrottlePercent ?? 0, DateTimeOffset.UtcNow)))
                .IfElse(context => context.Saga.Policy.AllowPostCopy == true,
                    postCopy => postCopy.SendToWorker(saga => saga.SourceHost, saga => new SwitchToPostCopy(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost)),
                    abort => RollBack(abort, saga => $"Pre-copy did not complete within the completion timeout of {CompletionTimeoutFor(saga).TotalSeconds:0} s.")));
        During(SwitchingOver,
            FailWith(When(StepTimeout.Received), saga => $"The source host {saga.SourceHost} stopped the VM for the switchover but nothing confirmed it within "
                    + $"{timeouts.Switchover.TotalSeconds:0} s: the VM may be paused on {saga.SourceHost} or running on {saga.TargetHost}. Recover it."));
        During(PostCopying,
            FailWith(When(StepTimeout.Received), saga => $"Post-copy made no progress for {ProgressTimeout(saga).TotalSeconds:0} s: the VM runs on {saga.TargetHost} "
                    + $"but may still need pages from {saga.SourceHost}. Recover it."));
        During(CleaningUp,
            Retry(When(StepTimeout.Received, context => context.Saga.StepAttempts < timeouts.MaxAttempts), timeouts.Cleanup, saga => saga.SourceHost, saga => new CleanupSource(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost)),
            FailWith(When(StepTimeout.Received, context => context.Saga.StepAttempts >= timeouts.MaxAttempts), saga => $"The VM runs on {saga.TargetHost}, but the source host {saga.SourceHost} did not confirm its cleanup "
                    + $"after {timeouts.MaxAttempts} attempts: check it for leftovers."));
        During(RollingBack,
            Retry(When(StepTimeout.Received, context => context.Saga.StepAttempts < timeouts.MaxAttempts), timeouts.Rollback, saga => saga.SourceHost, saga => new AbortTransfer(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost)),
            FailWith(When(StepTimeout.Received, context => context.Saga.StepAttempts >= timeouts.MaxAttempts), saga => $"Rollback not confirmed: the source host {saga.SourceHost} did not answer the abort after "
                    + $"{timeouts.MaxAttempts} attempts ({saga.Reason}). The VM's state is unknown: recover it."));
        During(DestroyingTarget,
            Retry(When(StepTimeout.Received, context => context.Saga.StepAttempts < timeouts.MaxAttempts), timeouts.Rollback, saga => saga.TargetHost, saga => new DestroyTarget(saga.CorrelationId, saga.Epoch, saga.VmId, saga.TargetHost)),
            // The source confirmed the abort, so the VM runs there: the migration is undone, only the target's cleanup is unknown.
            When(StepTimeout.Received, context => context.Saga.StepAttempts >= timeouts.MaxAttempts)
                .Then(context => context.Saga.Reason += $" The target host {context.Saga.TargetHost} did not confirm the removal of "
                    + "the destination: check it for a leftover.")
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.RollbackOutcome())
                .IfElse(context => context.Saga.CancelRequested,
                    cancelled => cancelled.TransitionTo(Cancelled),
                    rolledBack => rolledBack.TransitionTo(RolledBack)));
    }

    /// <summary>Undoes the migration before its switchover: the transfer is aborted, the VM stays on its source.</summary>
    EventActivityBinder<MigrationState, T> RollBack<T>(EventActivityBinder<MigrationState, T> binder, Func<MigrationState, string> reason)
        where T : class =>
        binder
            .Then(context => context.Saga.Record(context.Saga.BeginRollback(reason(context.Saga), cancelled: false)))
            .SendToWorker(saga => saga.SourceHost, saga => new AbortTransfer(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost))
            .TransitionTo(RollingBack);

    /// <summary>Ends the migration in Failed: an operator must look, and the reason says at what.</summary>
    EventActivityBinder<MigrationState, T> FailWith<T>(EventActivityBinder<MigrationState, T> binder, Func<MigrationState, string> reason)
        where T : class =>
        binder
            .Then(context => context.Saga.Reason = reason(context.Saga))
            .Activity(x => x.OfInstanceType<ReleaseActivity>())
            .RecordAndPublish(saga => saga.Failure())
            .TransitionTo(Failed);

    /// <summary>Sends an idempotent command again and waits once more.</summary>
    EventActivityBinder<MigrationState, T> Retry<T, TCommand>(EventActivityBinder<MigrationState, T> binder, TimeSpan delay,
        Func<MigrationState, string> host, Func<MigrationState, TCommand> command)
        where T : class
        where TCommand : class =>
        binder
            .Then(context => context.Saga.StepAttempts++)
            .SendToWorker(host, command)
            .Schedule(StepTimeout, context => new StepTimedOut(context.Saga.CorrelationId, context.Saga.CurrentState), _ => delay);

    /// <summary>Each waiting state arms the step timeout as it is entered and starts counting attempts anew.</summary>
    void Arm(State state, Func<MigrationState, TimeSpan> delay) =>
        WhenEnter(state, x => x
            .Then(context => context.Saga.StepAttempts = 1)
            .Schedule(StepTimeout, context => new StepTimedOut(context.Saga.CorrelationId, context.Saga.CurrentState), context => delay(context.Saga)));

    /// <summary>A pass or a heartbeat is progress: the progress timeout starts again, and the first pass starts the completion timeout.</summary>
    EventActivityBinder<MigrationState, PreCopyRoundCompleted> RearmProgress(EventActivityBinder<MigrationState, PreCopyRoundCompleted> binder) =>
        binder
            .Schedule(StepTimeout, context => new StepTimedOut(context.Saga.CorrelationId, context.Saga.CurrentState),
                context => ProgressTimeout(context.Saga))
            .If(context => context.Saga.MemoryBytes == 0, first => first
                .Then(context => context.Saga.MemoryBytes = context.Message.BytesTransferred)
                .Schedule(CompletionTimeout, context => new CompletionTimedOut(context.Saga.CorrelationId), context => CompletionTimeoutFor(context.Saga)));

    static TimeSpan ProgressTimeout(MigrationState saga) =>
        TimeSpan.FromSeconds(saga.Policy.ProgressTimeoutSeconds ?? MigrationPolicyDefaults.ProgressTimeoutSeconds);

    static TimeSpan CompletionTimeoutFor(MigrationState saga) => TimeSpan.FromSeconds(
        (saga.Policy.CompletionTimeoutSecondsPerGiB ?? MigrationPolicyDefaults.CompletionTimeoutSecondsPerGiB)
        * Math.Max(1.0, saga.MemoryBytes / (double)(1L << 30)));
}
