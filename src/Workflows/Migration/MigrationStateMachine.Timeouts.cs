using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// No silent wait: every state that waits for a worker has a durable timeout. A timed-out step is retried (idempotent
/// commands), rolled back (before the switchover) or failed with a reason an operator can act on; never left running.
/// </summary>
public sealed partial class MigrationStateMachine
{
    public Event<StepTimedOut> StepTimeout { get; private set; } = null!;
    public Event<CompletionTimedOut> CompletionTimeout { get; private set; } = null!;
    public Event<StepHeartbeat> Heartbeat { get; private set; } = null!;

    void DeclareTimeouts()
    {
        Correlate(() => StepTimeout, m => m.MigrationId);
        Correlate(() => CompletionTimeout, m => m.MigrationId);
        Correlate(() => Heartbeat, m => m.MigrationId);
    }

    void ConfigureTimeouts(TimeoutOptions timeouts)
    {
        Arm(Checking, _ => timeouts.Prepare);
        Arm(Preparing, _ => timeouts.Prepare);
        Arm(PreCopying, ProgressTimeout);
        WhenEnter(PreCopying, x => x.If(context => context.Saga.MemoryBytes > 0,
            known => known.Then(context => context.Saga.ArmTimer(TimerKinds.Completion, CompletionTimeoutFor(context.Saga)))));
        Arm(SwitchingOver, _ => timeouts.Switchover);
        Arm(PostCopying, ProgressTimeout);
        Arm(CleaningUp, _ => timeouts.Cleanup);
        Arm(RollingBack, _ => timeouts.Rollback);
        Arm(DestroyingTarget, _ => timeouts.Rollback);
        foreach (var terminal in Terminal)
            WhenEnter(terminal, x => x.Then(context => context.Saga.DisarmTimers()));

        During(PreCopying, PostCopying,
            When(Heartbeat).Then(context => context.Saga.ArmTimer(TimerKinds.Step, ProgressTimeout(context.Saga))));

        During(Checking,
            When(StepTimeout, IsCurrent)
                .Then(context => context.Saga.RejectAfterAdmission(
                    $"The source host {context.Saga.SourceHost} did not answer the pre-flight check within {timeouts.Prepare.TotalSeconds:0} s; nothing was done."))
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Rejection())
                .TransitionTo(Rejected));
        During(Preparing,
            RollBack(When(StepTimeout, IsCurrent), context => $"The target host {context.Saga.TargetHost} did not confirm it was prepared within {timeouts.Prepare.TotalSeconds:0} s."));
        During(PreCopying,
            RollBack(When(StepTimeout, IsCurrent), context => $"No progress from the source host {context.Saga.SourceHost} for {ProgressTimeout(context.Saga).TotalSeconds:0} s: "
                    + "its worker may be down."),
            When(CompletionTimeout, context => context.Message.Token == context.Saga.CompletionTimeoutToken)
                .Then(context => context.Saga.Record(new MigrationPolicyAdjusted(context.Saga.CorrelationId,
                    context.Saga.Policy.AllowPostCopy == true ? nameof(ConvergenceAction.SwitchToPostCopy) : nameof(ConvergenceAction.Abort),
                    $"completion timeout: pre-copy ran longer than {CompletionTimeoutFor(context.Saga).TotalSeconds:0} s "
                    + $"({context.Saga.Policy.CompletionTimeoutSecondsPerGiB} s per GiB of memory)",
                    context.Saga.Convergence?.DowntimeLimitMs ?? 0, context.Saga.Convergence?.ThrottlePercent ?? 0, DateTimeOffset.UtcNow)))
                .IfElse(context => context.Saga.Policy.AllowPostCopy == true,
                    postCopy => postCopy.SendToWorker(saga => saga.SourceHost, saga => new SwitchToPostCopy(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost)),
                    abort => RollBack(abort, context => $"Pre-copy did not complete within the completion timeout of {CompletionTimeoutFor(context.Saga).TotalSeconds:0} s.")));
        During(SwitchingOver,
            FailWith(When(StepTimeout, IsCurrent), saga => $"The source host {saga.SourceHost} stopped the VM for the switchover but nothing confirmed it within "
                    + $"{timeouts.Switchover.TotalSeconds:0} s: the VM may be paused on {saga.SourceHost} or running on {saga.TargetHost}. Recover it."));
        During(PostCopying,
            FailWith(When(StepTimeout, IsCurrent), saga => $"Post-copy made no progress for {ProgressTimeout(saga).TotalSeconds:0} s: the VM runs on {saga.TargetHost} "
                    + $"but may still need pages from {saga.SourceHost}. Recover it."));
        During(CleaningUp,
            Retry(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts < timeouts.MaxAttempts), timeouts.Cleanup, saga => saga.SourceHost, saga => new CleanupSource(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost)),
            FailWith(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts >= timeouts.MaxAttempts), saga => $"The VM runs on {saga.TargetHost}, but the source host {saga.SourceHost} did not confirm its cleanup "
                    + $"after {timeouts.MaxAttempts} attempts: check it for leftovers."));
        During(RollingBack,
            Retry(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts < timeouts.MaxAttempts), timeouts.Rollback, saga => saga.SourceHost, saga => new AbortTransfer(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost)),
            FailWith(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts >= timeouts.MaxAttempts), saga => $"Rollback not confirmed: the source host {saga.SourceHost} did not answer the abort after "
                    + $"{timeouts.MaxAttempts} attempts ({saga.Reason}). The VM's state is unknown: recover it."));
        During(DestroyingTarget,
            Retry(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts < timeouts.MaxAttempts), timeouts.Rollback, saga => saga.TargetHost, saga => new DestroyTarget(saga.CorrelationId, saga.Epoch, saga.VmId, saga.TargetHost)),
            // The source confirmed the abort, so the VM runs there: the migration is undone, only the target's cleanup is unknown.
            EndRollback(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts >= timeouts.MaxAttempts)
                .Then(context => context.Saga.Reason += $" The target host {context.Saga.TargetHost} did not confirm the removal of "
                    + "the destination: check it for a leftover.")));
    }

    /// <summary>
    /// Undoes the migration before its switchover, after a failure or, with <paramref name="cancelled"/>, on request: the
    /// transfer is aborted, the VM stays on its source.
    /// </summary>
    EventActivityBinder<MigrationState, T> RollBack<T>(EventActivityBinder<MigrationState, T> binder,
        Func<BehaviorContext<MigrationState, T>, string> reason, bool cancelled = false)
        where T : class =>
        binder
            .Then(context => context.Saga.Record(context.Saga.BeginRollback(reason(context), cancelled)))
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

    /// <summary>Ends an undone migration, the VM on its source: RolledBack, or Cancelled when an operator asked for it.</summary>
    EventActivityBinder<MigrationState, T> EndRollback<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .Activity(x => x.OfInstanceType<ReleaseActivity>())
            .RecordAndPublish(saga => saga.RollbackOutcome())
            .IfElse(context => context.Saga.CancelRequested,
                cancelled => cancelled.TransitionTo(Cancelled),
                rolledBack => rolledBack.TransitionTo(RolledBack));

    /// <summary>Sends an idempotent command again and waits once more.</summary>
    EventActivityBinder<MigrationState, T> Retry<T, TCommand>(EventActivityBinder<MigrationState, T> binder, TimeSpan delay,
        Func<MigrationState, string> host, Func<MigrationState, TCommand> command)
        where T : class
        where TCommand : class =>
        binder
            .Then(context => context.Saga.StepAttempts++)
            .SendToWorker(host, command)
            .Then(context => context.Saga.ArmTimer(TimerKinds.Step, delay));

    /// <summary>Each waiting state arms the step timeout as it is entered and starts counting attempts anew.</summary>
    void Arm(State state, Func<MigrationState, TimeSpan> delay) =>
        WhenEnter(state, x => x
            .Then(context =>
            {
                context.Saga.StepAttempts = 1;
                context.Saga.ArmTimer(TimerKinds.Step, delay(context.Saga));
            }));

    /// <summary>
    /// A pass or a heartbeat is progress: the progress timeout starts again. The completion timeout starts with the
    /// transfer when the pre-flight check said how big the VM is (a hypervisor that hangs while its worker heart-beats is
    /// still bounded), else with the first pass, which sends all of the memory.
    /// </summary>
    EventActivityBinder<MigrationState, PreCopyRoundCompleted> RearmProgress(EventActivityBinder<MigrationState, PreCopyRoundCompleted> binder) =>
        binder.Then(context =>
        {
            var saga = context.Saga;
            saga.ArmTimer(TimerKinds.Step, ProgressTimeout(saga));
            if (saga.CompletionTimeoutToken is not null)
                return;
            if (saga.MemoryBytes == 0)
                saga.MemoryBytes = context.Message.BytesTransferred;
            saga.ArmTimer(TimerKinds.Completion, CompletionTimeoutFor(saga));
        });

    /// <summary>A step timer that fired with the token of the timer armed last; an older one is stale.</summary>
    static bool IsCurrent(BehaviorContext<MigrationState, StepTimedOut> context) => context.Message.Token == context.Saga.StepTimeoutToken;

    static TimeSpan ProgressTimeout(MigrationState saga) =>
        TimeSpan.FromSeconds(saga.Policy.ProgressTimeoutSeconds ?? MigrationPolicyDefaults.ProgressTimeoutSeconds);

    static TimeSpan CompletionTimeoutFor(MigrationState saga) => TimeSpan.FromSeconds(
        (saga.Policy.CompletionTimeoutSecondsPerGiB ?? MigrationPolicyDefaults.CompletionTimeoutSecondsPerGiB)
        * Math.Max(1.0, saga.MemoryBytes / (double)(1L << 30)));
}
