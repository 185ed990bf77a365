using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Prediction;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Compensation: anything that fails before the switchover is undone, and the VM keeps running on its source. The
/// source's worker aborts the transfer (RollingBack), then the target's worker removes the destination
/// (DestroyingTarget); each step is idempotent and sent again when its worker does not answer in time.
/// </summary>
public sealed partial class MigrationStateMachine
{
    void ConfigureCompensation(TimeoutOptions timeouts)
    {
        During(Preparing, PreCopying, SwitchingOver,
            RollBack(When(StepFailed, context => !IsOnlyAPolicyStep(context.Message)).RecordReport(),
                context => $"{context.Message.Step} failed: {context.Message.Reason}"),
            // A policy step (adjust, switch to post-copy) that failed leaves the transfer running as it was.
            When(StepFailed, context => IsOnlyAPolicyStep(context.Message))
                .RecordReport());

        During(Preparing, PreCopying,
            RollBack(When(Cancel).Then(context => context.Saga.CancelRequestedBy = context.Message.RequestedBy),
                context => context.Message.Reason ?? "Cancelled by request.", cancelled: true));

        // RollingBack (entered by RollBack): the source's worker stops the transfer.
        Arm(RollingBack, _ => timeouts.Rollback);
        During(RollingBack,
            When(TransferAborted)
                .RecordReport()
                .SendToWorker(saga => saga.TargetHost, saga => saga.DestroyTarget())
                .TransitionTo(DestroyingTarget),
            // Reports of the transfer that was under way still arrive while it stops; they are history, not progress.
            When(DiskMirrorStarted).RecordReport(),
            When(DiskMirrorProgress).RecordReport(),
            When(DiskMirrorReady).RecordReport(),
            When(RoundCompleted).RecordReport(),
            When(StopAndCopyCompleted).RecordStopAndCopy(),
            // The transfer finished before the abort reached it: the VM already runs on the target and ownership has
            // moved, so the migration cannot be undone any more; it is finished instead.
            CleanUpSource(When(SwitchoverCompleted)
                .RecordSwitchover()
                .Then(context => context.Saga.CancelRequested = false)),
            Retry(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts < timeouts.MaxAttempts),
                timeouts.Rollback, saga => saga.SourceHost, saga => saga.AbortTransfer()),
            FailWith(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts >= timeouts.MaxAttempts),
                context => $"Rollback not confirmed: the source host {context.Saga.SourceHost} did not answer the abort after "
                    + $"{timeouts.MaxAttempts} attempts ({context.Saga.Reason}). The VM's state is unknown: recover it."));

        // DestroyingTarget: the transfer has stopped and the VM runs on its source; the target's worker removes the destination.
        Arm(DestroyingTarget, _ => timeouts.Rollback);
        During(DestroyingTarget,
            EndRollback(When(TargetDestroyed)
                .RecordReport()),
            Retry(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts < timeouts.MaxAttempts),
                timeouts.Rollback, saga => saga.TargetHost, saga => saga.DestroyTarget()),
            // The source confirmed the abort, so the VM runs there: the migration is undone, only the target's cleanup is unknown.
            EndRollback(When(StepTimeout, context => IsCurrent(context) && context.Saga.StepAttempts >= timeouts.MaxAttempts)
                .Then(context => context.Saga.Reason += $" The target host {context.Saga.TargetHost} did not confirm the removal of "
                    + "the destination: check it for a leftover.")));

        During(RollingBack, DestroyingTarget,
            // The abort came too late: the VM already runs on the target. Its SwitchoverCompleted report is on its way.
            When(StepFailed, context => IsRollbackStep(context.Message) && context.Message.VmRunningOn == context.Saga.TargetHost)
                .RecordReport(),
            // Only the rollback's own steps can fail it; a late failure of the transfer being undone (a redelivered
            // command on a restarted worker, say) is history.
            When(StepFailed, context => !IsRollbackStep(context.Message))
                .RecordReport(),
            // The destination could not be removed (its host died, say) but the VM runs on its source: the migration is
            // undone; only the target's leftover is unknown.
            EndRollback(When(StepFailed, context => context.Message.Step == MigrationSteps.DestroyTarget && context.Message.VmRunningOn == context.Saga.SourceHost)
                .RecordReport()
                .Then(context => context.Saga.Reason += $" The target host {context.Saga.TargetHost} could not remove the destination "
                    + $"({context.Message.Reason}): check it for a leftover.")),
            FailWith(When(StepFailed, context => IsRollbackStep(context.Message) && context.Message.VmRunningOn != context.Saga.TargetHost
                    && !(context.Message.Step == MigrationSteps.DestroyTarget && context.Message.VmRunningOn == context.Saga.SourceHost))
                .RecordReport()
                .Then(context => context.Saga.RunningOn = context.Message.VmRunningOn),
                context => $"Rollback failed ({context.Message.Step}: {context.Message.Reason}) after: {context.Saga.Reason}"));
    }

    /// <summary>
    /// Into RollingBack: undoes the migration before its switchover, after a failure or, with <paramref name="cancelled"/>,
    /// on request. The transfer is aborted; the VM stays on its source.
    /// </summary>
    EventActivityBinder<MigrationState, T> RollBack<T>(EventActivityBinder<MigrationState, T> binder,
        Func<BehaviorContext<MigrationState, T>, string> reason, bool cancelled = false)
        where T : class =>
        RollBack(binder.Then(context =>
        {
            context.Saga.Reason = reason(context);
            context.Saga.CancelRequested = cancelled;
        }));

    /// <summary>Into RollingBack for the reason, and with the cancellation, already on the saga (a recovery's verdict).</summary>
    EventActivityBinder<MigrationState, T> RollBack<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .Record(saga => saga.RollingBack())
            .SendToWorker(saga => saga.SourceHost, saga => saga.AbortTransfer())
            .TransitionTo(RollingBack);

    /// <summary>Ends an undone migration, the VM on its source: RolledBack, or Cancelled when an operator asked for it.</summary>
    EventActivityBinder<MigrationState, T> EndRollback<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .Activity(x => x.OfInstanceType<ReleaseActivity>())
            .Activity(x => x.OfInstanceType<LearnBehaviourActivity>())
            .RecordAndPublish(saga => saga.RollbackOutcome())
            .IfElse(context => context.Saga.CancelRequested,
                cancelled => cancelled.TransitionTo(Cancelled),
                rolledBack => rolledBack.TransitionTo(RolledBack));

    /// <summary>Ends the migration in Failed: an operator must look, and the reason says at what.</summary>
    EventActivityBinder<MigrationState, T> FailWith<T>(EventActivityBinder<MigrationState, T> binder,
        Func<BehaviorContext<MigrationState, T>, string> reason)
        where T : class =>
        binder
            .Then(context => context.Saga.Reason = reason(context))
            .Activity(x => x.OfInstanceType<ReleaseActivity>())
            .RecordAndPublish(saga => saga.Failure())
            .TransitionTo(Failed);

    /// <summary>The steps a rollback itself runs; only their failure fails the rollback.</summary>
    static bool IsRollbackStep(MigrationStepFailed failure) => failure.Step is MigrationSteps.AbortTransfer or MigrationSteps.DestroyTarget;

    /// <summary>A failed policy step (adjust, switch to post-copy) leaves the transfer running; it does not fail the migration.</summary>
    static bool IsOnlyAPolicyStep(MigrationStepFailed failure) => failure.Step is MigrationSteps.Adjust or MigrationSteps.SwitchToPostCopy;
}
