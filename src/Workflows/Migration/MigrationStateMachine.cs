using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// One live migration, from the command to a terminal state. Every transition records its events on the saga
/// (<see cref="MigrationState.Record"/>); the Marten saga repository appends them to the migration's stream in the
/// transaction that stores the new state.
/// </summary>
public sealed partial class MigrationStateMachine : MassTransitStateMachine<MigrationState>
{
    public MigrationStateMachine(IOptions<MigrationPolicyOptions> policies, IOptions<TimeoutOptions> timeouts)
    {
        InstanceState(x => x.CurrentState);
        CorrelateEvents();
        ConnectStateObserver(new StateChangePublisher());
        DeclareTimeouts();
        DeclareRecovery();

        // A report that no longer fits the state (the migration moved on, or a delivery came twice) changes nothing.
        OnUnhandledEvent(context => context.Ignore());

        Initially(
            When(Start)
                .Then(context => context.Saga.Accept(context.Message, policies.Value))
                .If(context => context.Saga.RejectionCode is null, claim => claim.Activity(x => x.OfType<ClaimVmActivity>()))
                .IfElse(context => context.Saga.RejectionCode is null,
                    accepted => accepted
                        .Then(context => context.Saga.Request())
                        .Activity(x => x.OfType<AdmitOrQueueActivity>())
                        .IfElse(context => context.Saga.Queued,
                            queued => queued.TransitionTo(Queued),
                            admitted => admitted.Admit(Checking)),
                    rejected => rejected
                        .RecordAndPublish(saga => saga.Rejection())
                        .TransitionTo(Rejected)));

        During(Queued,
            When(Admitted)
                .Admit(Checking));

        During(Checking,
            When(PreflightPassed)
                .RecordReport()
                .Then(context => context.Saga.Checked(context.Message))
                .SendToWorker(saga => saga.TargetHost, saga => saga.PrepareTargetCommand())
                .TransitionTo(Preparing),
            When(PreflightFailed)
                .RecordReport()
                .Then(context => context.Saga.RejectAfterAdmission(context.Message.Reason))
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Rejection())
                .TransitionTo(Rejected),
            When(StepFailed)
                .RecordReport()
                .Then(context => context.Saga.RejectAfterAdmission($"The pre-flight check failed: {context.Message.Reason}"))
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Rejection())
                .TransitionTo(Rejected));

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

        During(Preparing,
            When(TargetPrepared)
                .RecordReport()
                .Then(context => context.Saga.IncomingUri = context.Message.IncomingUri)
                .SendToWorker(saga => saga.SourceHost, saga => saga.BeginTransferCommand())
                .TransitionTo(PreCopying));

        During(PreCopying,
            RearmProgress(When(RoundCompleted)
                .RecordReport())
                .ApplyConvergencePolicy()
                .If(context => context.Saga.Decision?.Action == ConvergenceAction.Abort, abort =>
                    RollBack(abort, context => context.Saga.Decision!.Reason)),
            When(ForceComplete)
                .ForceCompletion(),
            When(StopAndCopyCompleted)
                .RecordReport()
                .Then(context => context.Saga.DowntimeMs = context.Message.DowntimeMs)
                .TransitionTo(SwitchingOver));

        // The switchover report may overtake the stop-and-copy report (several orchestrator instances, redelivery):
        // it implies the stop-and-copy happened, so it is accepted in PreCopying too.
        During(PreCopying, SwitchingOver,
            When(SwitchoverCompleted)
                .RecordReport()
                .Then(context => context.Saga.RunningOn = context.Message.RunningOn)
                .SendToWorker(saga => saga.SourceHost, saga => new CleanupSource(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost))
                .TransitionTo(CleaningUp));

        // Post-copy: the VM resumes on the target while its pages still come from the source. From here on neither host
        // alone holds the VM, so nothing may cancel or roll it back (QEMU would lose the VM on both sides).
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
            When(PostCopyCompleted)
                .RecordReport()
                .SendToWorker(saga => saga.SourceHost, saga => new CleanupSource(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost))
                .TransitionTo(CleaningUp),
            When(StepFailed)
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.Reason = $"VM lost: {context.Message.Step} failed during post-copy ({context.Message.Reason}); "
                        + "neither host holds a complete VM. Recover it or restore it from backup.";
                    context.Saga.RunningOn = null;
                })
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Failure())
                .TransitionTo(Failed));

        During(CleaningUp,
            When(StopAndCopyCompleted)
                .RecordReport()
                .Then(context => context.Saga.DowntimeMs = context.Message.DowntimeMs),
            When(SourceCleanedUp)
                .RecordReport()
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Completion())
                .TransitionTo(Completed),
            // Only the cleanup itself can fail the cleanup; a late failure of an earlier step is history.
            When(StepFailed, context => context.Message.Step != MigrationSteps.CleanupSource)
                .RecordReport(),
            When(StepFailed, context => context.Message.Step == MigrationSteps.CleanupSource)
                .RecordReport()
                .Then(context => context.Saga.Reason = $"Cleanup of the source failed after switchover: {context.Message.Reason}")
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Failure())
                .TransitionTo(Failed));

        // Compensation: anything that fails before the switchover is undone; the VM keeps running on its source.
        During(Preparing, PreCopying, SwitchingOver,
            RollBack(When(StepFailed, context => !context.Saga.IsOnlyAPolicyStep(context.Message)).RecordReport(),
                context => $"{context.Message.Step} failed: {context.Message.Reason}"),
            // A policy step (adjust, switch to post-copy) that failed leaves the transfer running as it was.
            When(StepFailed, context => context.Saga.IsOnlyAPolicyStep(context.Message))
                .RecordReport());

        During(Preparing, PreCopying,
            RollBack(When(Cancel).Then(context => context.Saga.CancelRequestedBy = context.Message.RequestedBy),
                context => context.Message.Reason ?? "Cancelled by request.", cancelled: true));

        During(RollingBack,
            When(TransferAborted)
                .RecordReport()
                .SendToWorker(saga => saga.TargetHost, saga => new DestroyTarget(saga.CorrelationId, saga.Epoch, saga.VmId, saga.TargetHost))
                .TransitionTo(DestroyingTarget),
            // Reports of the transfer that was under way still arrive while it stops; they are history, not progress.
            When(RoundCompleted).RecordReport(),
            When(StopAndCopyCompleted).RecordReport(),
            // The transfer finished before the abort reached it: the VM already runs on the target and ownership has
            // moved, so the migration cannot be undone any more; it is finished instead.
            When(SwitchoverCompleted)
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.RunningOn = context.Message.RunningOn;
                    context.Saga.CancelRequested = false;
                })
                .SendToWorker(saga => saga.SourceHost, saga => new CleanupSource(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost))
                .TransitionTo(CleaningUp));

        During(DestroyingTarget,
            EndRollback(When(TargetDestroyed)
                .RecordReport()));

        During(RollingBack, DestroyingTarget,
            // The abort came too late: the VM already runs on the target. Its SwitchoverCompleted report is on its way.
            When(StepFailed, context => context.Saga.IsRollbackStep(context.Message) && context.Message.VmRunningOn == context.Saga.TargetHost)
                .RecordReport(),
            // Only the rollback's own steps can fail it; a late failure of the transfer being undone (a redelivered
            // command on a restarted worker, say) is history.
            When(StepFailed, context => !context.Saga.IsRollbackStep(context.Message))
                .RecordReport(),
            // The destination could not be removed (its host died, say) but the VM runs on its source: the migration is
            // undone; only the target's leftover is unknown.
            EndRollback(When(StepFailed, context => context.Message.Step == MigrationSteps.DestroyTarget && context.Message.VmRunningOn == context.Saga.SourceHost)
                .RecordReport()
                .Then(context => context.Saga.Reason += $" The target host {context.Saga.TargetHost} could not remove the destination "
                    + $"({context.Message.Reason}): check it for a leftover.")),
            When(StepFailed, context => context.Saga.IsRollbackStep(context.Message) && context.Message.VmRunningOn != context.Saga.TargetHost
                    && !(context.Message.Step == MigrationSteps.DestroyTarget && context.Message.VmRunningOn == context.Saga.SourceHost))
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.Reason = $"Rollback failed ({context.Message.Step}: {context.Message.Reason}) after: {context.Saga.Reason}";
                    context.Saga.RunningOn = context.Message.VmRunningOn;
                })
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Failure())
                .TransitionTo(Failed));

        During([SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget, Reconciling, .. Terminal],
            When(Cancel).RefuseWith(saga => saga.CancelRefusal()));
        During([Queued, Checking, Preparing, SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget, Reconciling, .. Terminal],
            When(ForceComplete).RefuseWith(saga => saga.ForceCompleteRefusal()));

        // Duplicates are normal (redelivery, a sender that retries): a second StartMigration of a known migration does nothing.
        DuringAny(Ignore(Start));

        ConfigureTimeouts(timeouts.Value);
        ConfigureRecovery(timeouts.Value);
    }

    public State Queued { get; private set; } = null!;
    public State Checking { get; private set; } = null!;
    public State Preparing { get; private set; } = null!;
    public State PreCopying { get; private set; } = null!;
    public State SwitchingOver { get; private set; } = null!;
    public State PostCopying { get; private set; } = null!;
    public State CleaningUp { get; private set; } = null!;
    public State RollingBack { get; private set; } = null!;
    public State DestroyingTarget { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State RolledBack { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;
    public State Rejected { get; private set; } = null!;
    public State Failed { get; private set; } = null!;

    /// <summary>The states a migration ends in; nothing moves it out of them.</summary>
    public IReadOnlyList<State> Terminal => [Completed, RolledBack, Cancelled, Rejected, Failed];

    public Event<StartMigration> Start { get; private set; } = null!;
    public Event<CancelMigration> Cancel { get; private set; } = null!;
    public Event<ForceCompleteMigration> ForceComplete { get; private set; } = null!;
    public Event<AdmitMigration> Admitted { get; private set; } = null!;
    public Event<PreflightPassed> PreflightPassed { get; private set; } = null!;
    public Event<PreflightFailed> PreflightFailed { get; private set; } = null!;
    public Event<TargetPrepared> TargetPrepared { get; private set; } = null!;
    public Event<PreCopyRoundCompleted> RoundCompleted { get; private set; } = null!;
    public Event<StopAndCopyCompleted> StopAndCopyCompleted { get; private set; } = null!;
    public Event<SwitchoverCompleted> SwitchoverCompleted { get; private set; } = null!;
    public Event<PostCopyStarted> PostCopyStarted { get; private set; } = null!;
    public Event<PostCopyRecovered> PostCopyRecovered { get; private set; } = null!;
    public Event<PostCopyCompleted> PostCopyCompleted { get; private set; } = null!;
    public Event<SourceCleanedUp> SourceCleanedUp { get; private set; } = null!;
    public Event<MigrationStepFailed> StepFailed { get; private set; } = null!;
    public Event<MigrationAborted> TransferAborted { get; private set; } = null!;
    public Event<TargetDestroyed> TargetDestroyed { get; private set; } = null!;

    void CorrelateEvents()
    {
        Event(() => Start, x => x.CorrelateById(m => m.Message.MigrationId));
        // Operator commands and worker reports about a migration this orchestrator does not know are dropped.
        Correlate(() => Cancel, m => m.MigrationId);
        Correlate(() => ForceComplete, m => m.MigrationId);
        Correlate(() => Admitted, m => m.MigrationId);
        Correlate(() => PreflightPassed, m => m.MigrationId);
        Correlate(() => PreflightFailed, m => m.MigrationId);
        Correlate(() => TargetPrepared, m => m.MigrationId);
        Correlate(() => RoundCompleted, m => m.MigrationId);
        Correlate(() => StopAndCopyCompleted, m => m.MigrationId);
        Correlate(() => SwitchoverCompleted, m => m.MigrationId);
        Correlate(() => PostCopyStarted, m => m.MigrationId);
        Correlate(() => PostCopyRecovered, m => m.MigrationId);
        Correlate(() => PostCopyCompleted, m => m.MigrationId);
        Correlate(() => SourceCleanedUp, m => m.MigrationId);
        Correlate(() => StepFailed, m => m.MigrationId);
        Correlate(() => TransferAborted, m => m.MigrationId);
        Correlate(() => TargetDestroyed, m => m.MigrationId);
    }

    void Correlate<T>(System.Linq.Expressions.Expression<Func<Event<T>>> property, Func<T, Guid> migrationId)
        where T : class =>
        Event(property, x =>
        {
            x.CorrelateById(m => migrationId(m.Message));
            x.OnMissingInstance(m => m.Discard());
        });
}
