using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Scheduling;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// One live migration, from the command to a terminal state. Every transition records its events on the saga
/// (<see cref="MigrationState.Record"/>); the Marten saga repository appends them to the migration's stream in the
/// transaction that stores the new state. The happy path reads here state by state, each with the timer its wait is
/// bounded by (armed as the state is entered) and what its timeout does; what undoes a migration is in
/// <c>MigrationStateMachine.Compensation.cs</c>, what recovers one in <c>MigrationStateMachine.Recovery.cs</c>.
/// </summary>
public sealed partial class MigrationStateMachine : MassTransitStateMachine<MigrationState>
{
    public MigrationStateMachine(IOptions<MigrationPolicyOptions> policies, IOptions<TimeoutOptions> timeoutOptions)
    {
        var timeouts = timeoutOptions.Value;
        InstanceState(x => x.CurrentState);
        CorrelateEvents();
        ConnectStateObserver(new StateChangePublisher());

        // A report that no longer fits the state (the migration moved on, or a delivery came twice) changes nothing.
        OnUnhandledEvent(context => context.Ignore());

        Initially(
            When(Start)
                .Then(context => context.Saga.Accept(context.Message, policies.Value))
                .If(context => context.Saga.RejectionCode is null, claim => claim.Activity(x => x.OfType<ClaimVmActivity>()))
                .IfElse(context => context.Saga.RejectionCode is null,
                    accepted => accepted
                        .RecordAndPublish(saga => saga.Requested())
                        .Activity(x => x.OfType<AdmitOrQueueActivity>())
                        .IfElse(context => context.Saga.Queued,
                            queued => queued.TransitionTo(Queued),
                            admitted => Admit(admitted)),
                    rejected => rejected
                        .RecordAndPublish(saga => saga.Rejection())
                        .TransitionTo(Rejected)));

        During(Queued,
            Admit(When(Admitted)));

        // Checking (entered by Admit): the source's worker says whether the VM can go; no host has been touched yet.
        Arm(Checking, _ => timeouts.Prepare);
        During(Checking,
            When(PreflightPassed)
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.MemoryBytes = context.Message.MemoryBytes;
                    context.Saga.DiskBytes = context.Message.DiskBytes;
                    context.Saga.VmDefinition = context.Message.VmDefinition;
                })
                .Activity(x => x.OfType<PredictActivity>())
                .IfElse(context => context.Saga.RejectionCode is null,
                    go => go
                        // The links scheduled: it takes its share of bandwidth, or waits in the queue for it.
                        .Activity(x => x.OfType<LinkGateActivity>())
                        .IfElse(context => context.Saga.Queued,
                            waits => waits.TransitionTo(Queued),
                            starts => starts
                                .SendToWorker(saga => saga.TargetHost, saga => saga.PrepareTarget())
                                .TransitionTo(Preparing)),
                    // Predicted not to converge, or to miss its deadline: the code the prediction set.
                    predictedToFail => RejectAfterAdmission(predictedToFail, context => context.Saga.Reason!, code: null)),
            RejectAfterAdmission(When(PreflightFailed).RecordReport(), context => context.Message.Reason),
            RejectAfterAdmission(When(StepFailed).RecordReport(), context => $"The pre-flight check failed: {context.Message.Reason}"),
            RejectAfterAdmission(When(StepTimeout, IsCurrent), context =>
                $"The source host {context.Saga.SourceHost} did not answer the pre-flight check within {timeouts.Prepare.TotalSeconds:0} s; nothing was done."));

        // Nothing has been done to any host before the pre-flight check passed: cancelling just lets go.
        During(Queued, Checking,
            When(Cancel)
                .Then(context =>
                {
                    context.Saga.CancelRequested = true;
                    context.Saga.CancelRequestedBy = context.Message.RequestedBy;
                    context.Saga.Reason = context.Message.Reason ?? "Cancelled by request.";
                })
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.RollbackOutcome())
                .TransitionTo(Cancelled));

        // Preparing: the target's worker gets a destination ready. Entering pre-copy starts the downtime ramp and the transfer.
        Arm(Preparing, _ => timeouts.Prepare);
        During(Preparing,
            When(TargetPrepared)
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.IncomingUri = context.Message.IncomingUri;
                    context.Saga.DiskExportUri = context.Message.DiskExportUri;
                })
                .StartConvergence()
                .SendToWorker(saga => saga.SourceHost, saga => saga.BeginTransfer())
                .TransitionTo(PreCopying),
            RollBack(When(StepTimeout, IsCurrent),
                context => $"The target host {context.Saga.TargetHost} did not confirm it was prepared within {timeouts.Prepare.TotalSeconds:0} s."));

        // PreCopying: each pass or heartbeat is progress; the completion timeout bounds the whole transfer (from here when
        // the pre-flight check said how big the VM is, else from the first pass). The policy reads every pass.
        Arm(PreCopying, ProgressTimeout);
        WhenEnter(PreCopying, x => x.If(context => context.Saga.MemoryBytes > 0,
            known => known.Then(context => context.Saga.ArmTimer(TimerKinds.Completion, CompletionTimeoutFor(context.Saga)))));
        During(PreCopying,
            RearmProgress(When(RoundCompleted)
                .RecordReport())
                .ApplyConvergencePolicy()
                .Activity(x => x.OfType<RefreshForecastActivity>())
                .If(context => context.Saga.Decision?.Action == ConvergenceAction.Abort, abort =>
                    RollBack(abort, context => context.Saga.Decision!.Reason)),
            When(ForceComplete)
                .ForceCompletion(),
            // The VM's local disks are mirrored before the memory moves: each report is progress. A mirror that misses the
            // policy's deadline is given up by the worker, which reports the step failed (a rollback, the source disk kept).
            When(DiskMirrorStarted)
                .RecordReport()
                .Then(context => context.Saga.ArmTimer(TimerKinds.Step, ProgressTimeout(context.Saga))),
            When(DiskMirrorProgress)
                .RecordReport()
                .Then(context => context.Saga.ArmTimer(TimerKinds.Step, ProgressTimeout(context.Saga))),
            When(DiskMirrorReady)
                .RecordReport()
                .Then(context => context.Saga.ArmTimer(TimerKinds.Step, ProgressTimeout(context.Saga))),
            When(StopAndCopyCompleted)
                .RecordStopAndCopy()
                .TransitionTo(SwitchingOver),
            RollBack(When(StepTimeout, IsCurrent), context => $"No progress from the source host {context.Saga.SourceHost} for "
                + $"{ProgressTimeout(context.Saga).TotalSeconds:0} s: its worker may be down."),
            When(CompletionTimeout, context => context.Message.Token == context.Saga.CompletionTimeoutToken)
                .Record(saga => saga.PolicyAdjusted(
                    saga.Policy.AllowPostCopy ? nameof(ConvergenceAction.SwitchToPostCopy) : nameof(ConvergenceAction.Abort),
                    $"completion timeout: pre-copy ran longer than {CompletionTimeoutFor(saga).TotalSeconds:0} s "
                    + $"({saga.Policy.CompletionTimeoutSecondsPerGiB} s per GiB of memory)"))
                .IfElse(context => context.Saga.Policy.AllowPostCopy,
                    postCopy => postCopy.SendToWorker(saga => saga.SourceHost, saga => saga.SwitchToPostCopy()),
                    abort => RollBack(abort, context => $"Pre-copy did not complete within the completion timeout of {CompletionTimeoutFor(context.Saga).TotalSeconds:0} s.")));
        // The completion timeout bounds pre-copy only: whatever ends it (switchover, post-copy, rollback, recovery) disarms it.
        WhenLeave(PreCopying, x => x.Then(context => context.Saga.DisarmTimer(TimerKinds.Completion)));
        // The links scheduled: its share of them moved as another migration started or ended. Before the transfer it is
        // what BeginTransfer will carry; during it, the source's hypervisor is told.
        During(Checking, Preparing,
            When(LinkShared).Then(context => context.Saga.LinkShareMiBps = context.Message.MaxBandwidthMiBps));
        During(PreCopying, PostCopying,
            When(LinkShared)
                .Then(context => context.Saga.LinkShareMiBps = context.Message.MaxBandwidthMiBps)
                .Record(saga => saga.PolicyAdjusted("LinkShare",
                    $"max-bandwidth {saga.LinkShareMiBps} MiB/s: its links were shared again as another migration started or ended"))
                .SendToWorker(saga => saga.SourceHost, saga => saga.ShareBandwidth()));
        During(PreCopying, PostCopying,
            When(Heartbeat).Then(context => context.Saga.ArmTimer(TimerKinds.Step, ProgressTimeout(context.Saga))));

        // SwitchingOver: the hypervisor stops the VM, copies the rest and resumes it on the target. The switchover report
        // may overtake the stop-and-copy report (several orchestrator instances, redelivery): it implies the stop-and-copy
        // happened, so it is accepted in PreCopying too.
        Arm(SwitchingOver, _ => timeouts.Switchover);
        During(PreCopying, SwitchingOver,
            CleanUpSource(When(SwitchoverCompleted)
                .RecordSwitchover()));
        During(SwitchingOver,
            FailWith(When(StepTimeout, IsCurrent), context => $"The source host {context.Saga.SourceHost} stopped the VM for the switchover but "
                + $"nothing confirmed it within {timeouts.Switchover.TotalSeconds:0} s: the VM may be paused on {context.Saga.SourceHost} or running on "
                + $"{context.Saga.TargetHost}. Recover it."));

        // PostCopying: the VM resumes on the target while its pages still come from the source. From here on neither host
        // alone holds the VM, so nothing may cancel or roll it back (QEMU would lose the VM on both sides).
        Arm(PostCopying, ProgressTimeout);
        During(PreCopying, SwitchingOver, RollingBack,
            When(PostCopyStarted)
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.RunningOn = context.Message.RunningOn;
                    context.Saga.CancelRequested = false;
                })
                .TransitionTo(PostCopying));
        During(PostCopying,
            // A broken link the worker resumed: recorded for operators and auditors; the migration goes on as it was.
            When(PostCopyRecovered)
                .RecordReport(),
            CleanUpSource(When(PostCopyCompleted)
                .RecordReport()),
            FailWith(When(StepFailed)
                .RecordReport()
                .Then(context => context.Saga.RunningOn = null),
                context => $"VM lost: {context.Message.Step} failed during post-copy ({context.Message.Reason}); "
                    + "neither host holds a complete VM. Recover it or restore it from backup."),
            FailWith(When(StepTimeout, IsCurrent), context => $"Post-copy made no progress for {ProgressTimeout(context.Saga).TotalSeconds:0} s: "
                + $"the VM runs on {context.Saga.TargetHost} but may still need pages from {context.Saga.SourceHost}. Recover it."));

        // CleaningUp (entered by CleanUpSource): the VM runs on the target; the source's leftovers go. The cleanup is
        // idempotent, so a timeout sends it again, up to MaxAttempts.
        // The stop-and-copy report can come last of all (several instances, a redelivery): the source's cleanup then waits
        // for it, so the completion carries the downtime it measured, up to the cleanup timeout.
        Arm(CleaningUp, _ => timeouts.Cleanup);
        During(CleaningUp,
            When(StopAndCopyCompleted, context => !context.Saga.SourceCleaned)
                .RecordStopAndCopy(),
            Complete(When(StopAndCopyCompleted, context => context.Saga.SourceCleaned)
                .RecordStopAndCopy()),
            Complete(When(SourceCleanedUp, context => !context.Saga.AwaitsStopAndCopy)
                .RecordReport()),
            When(SourceCleanedUp, context => context.Saga.AwaitsStopAndCopy)
                .RecordReport()
                .Then(context => context.Saga.SourceCleaned = true),
            Complete(When(StepTimeout, context => IsCurrent(context) && context.Saga.SourceCleaned)),
            // Only the cleanup itself can fail the cleanup; a late failure of an earlier step is history.
            When(StepFailed, context => context.Message.Step != MigrationSteps.CleanupSource)
                .RecordReport(),
            FailWith(When(StepFailed, context => context.Message.Step == MigrationSteps.CleanupSource)
                .RecordReport(),
                context => $"Cleanup of the source failed after switchover: {context.Message.Reason}"),
            Retry(When(StepTimeout, context => IsCurrent(context) && !context.Saga.SourceCleaned && context.Saga.StepAttempts < timeouts.MaxAttempts),
                timeouts.Cleanup, saga => saga.SourceHost, saga => saga.CleanupSource()),
            FailWith(When(StepTimeout, context => IsCurrent(context) && !context.Saga.SourceCleaned && context.Saga.StepAttempts >= timeouts.MaxAttempts),
                context => $"The VM runs on {context.Saga.TargetHost}, but the source host {context.Saga.SourceHost} did not confirm "
                    + $"its cleanup after {timeouts.MaxAttempts} attempts: check it for leftovers."));

        // A report that comes after a later one moved the migration on is history all the same: recorded as evidence.
        During(PostCopying, Completed,
            When(StopAndCopyCompleted)
                .RecordStopAndCopy());

        // A migration that has ended waits for nothing.
        foreach (var terminal in Terminal)
            WhenEnter(terminal, x => x.Then(context => context.Saga.DisarmTimers()));

        ConfigureCompensation(timeouts);
        ConfigureRecovery(timeouts);
        ConfigureDeadLetters();

        During([SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget, Reconciling, .. Terminal],
            When(Cancel).RefuseWith(saga => saga.CancelRefusal()));
        During([Queued, Checking, Preparing, SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget, Reconciling, .. Terminal],
            When(ForceComplete).RefuseWith(saga => saga.ForceCompleteRefusal()));

        // Duplicates are normal (redelivery, a sender that retries): a second StartMigration of a known migration does nothing.
        DuringAny(Ignore(Start));
    }

    /// <summary>
    /// Into Checking: the migration has a slot, so it takes its first fencing epoch and the source host's worker checks it
    /// can go ahead.
    /// </summary>
    EventActivityBinder<MigrationState, T> Admit<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .Then(context =>
            {
                context.Saga.Epoch = 1;
                context.Saga.Queued = false;
            })
            .RecordAndPublish(saga => saga.Admitted())
            .SendToWorker(saga => saga.SourceHost, saga => saga.CheckMigration())
            .TransitionTo(Checking);

    /// <summary>
    /// Into Rejected after the slot was taken or while queued: the pre-flight check said no (or a message it needed was set
    /// aside), and nothing was done to any host.
    /// </summary>
    EventActivityBinder<MigrationState, T> RejectAfterAdmission<T>(EventActivityBinder<MigrationState, T> binder,
        Func<BehaviorContext<MigrationState, T>, string> reason, string? code = RejectionCodes.PreflightFailed)
        where T : class =>
        binder
            .Then(context =>
            {
                context.Saga.RejectionCode = code ?? context.Saga.RejectionCode ?? RejectionCodes.PreflightFailed;
                context.Saga.Reason = reason(context);
            })
            .Activity(x => x.OfInstanceType<ReleaseActivity>())
            .RecordAndPublish(saga => saga.Rejection())
            .TransitionTo(Rejected);

    /// <summary>Into Completed: the VM runs on the target and the source is clean.</summary>
    EventActivityBinder<MigrationState, T> Complete<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .Activity(x => x.OfInstanceType<ReleaseActivity>())
            .Activity(x => x.OfInstanceType<LearnBehaviourActivity>())
            .RecordAndPublish(saga => saga.Completion())
            .TransitionTo(Completed);

    /// <summary>Into CleaningUp, from wherever the VM was found running on the target: the source's worker removes the rest.</summary>
    EventActivityBinder<MigrationState, T> CleanUpSource<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .SendToWorker(saga => saga.SourceHost, saga => saga.CleanupSource())
            .TransitionTo(CleaningUp);
}
