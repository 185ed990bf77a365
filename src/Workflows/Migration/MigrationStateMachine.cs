using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// One live migration, from the command to a terminal state. Every transition records its events on the saga
/// (<see cref="MigrationState.Record"/>); the Marten saga repository appends them to the migration's stream in the
/// transaction that stores the new state.
/// </summary>
public sealed class MigrationStateMachine : MassTransitStateMachine<MigrationState>
{
    public MigrationStateMachine()
    {
        InstanceState(x => x.CurrentState);

        Event(() => Start, x => x.CorrelateById(m => m.Message.MigrationId));
        Event(() => Cancel, x =>
        {
            x.CorrelateById(m => m.Message.MigrationId);
            x.OnMissingInstance(m => m.Discard());
        });
        CorrelateWorkerReport(() => TargetPrepared, m => m.MigrationId);
        CorrelateWorkerReport(() => RoundCompleted, m => m.MigrationId);
        CorrelateWorkerReport(() => StopAndCopyCompleted, m => m.MigrationId);
        CorrelateWorkerReport(() => SwitchoverCompleted, m => m.MigrationId);
        CorrelateWorkerReport(() => SourceCleanedUp, m => m.MigrationId);
        CorrelateWorkerReport(() => StepFailed, m => m.MigrationId);
        CorrelateWorkerReport(() => TransferAborted, m => m.MigrationId);
        CorrelateWorkerReport(() => TargetDestroyed, m => m.MigrationId);

        // A report that no longer fits the state (the migration moved on, or a delivery came twice) changes nothing.
        OnUnhandledEvent(context => context.Ignore());

        Initially(
            When(Start)
                .Then(context => context.Saga.Accept(context.Message))
                .If(context => context.Saga.RejectionCode is null, claim => claim.Activity(x => x.OfType<ClaimVmActivity>()))
                .IfElse(context => context.Saga.RejectionCode is null,
                    admitted => admitted
                        .Then(context => context.Saga.Admit())
                        .SendToWorker(saga => saga.TargetHost, saga => new PrepareTarget(
                            saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Hypervisor))
                        .TransitionTo(Preparing),
                    rejected => rejected
                        .RecordAndPublish(saga => saga.Rejection())
                        .TransitionTo(Rejected)));

        During(Preparing,
            When(TargetPrepared)
                .RecordReport()
                .SendToWorker(saga => saga.SourceHost, saga => new BeginTransfer(
                    saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Strategy,
                    saga.Policy.MaxDowntimeMs ?? MigrationPolicyDefaults.MaxDowntimeMs,
                    saga.Policy.MaxBandwidthMiBps ?? MigrationPolicyDefaults.MaxBandwidthMiBps))
                .TransitionTo(PreCopying));

        During(PreCopying,
            When(RoundCompleted)
                .RecordReport(),
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

        During(CleaningUp,
            When(StopAndCopyCompleted)
                .RecordReport()
                .Then(context => context.Saga.DowntimeMs = context.Message.DowntimeMs),
            When(SourceCleanedUp)
                .RecordReport()
                .Activity(x => x.OfInstanceType<ReleaseVmActivity>())
                .RecordAndPublish(saga => saga.Completion())
                .TransitionTo(Completed),
            When(StepFailed)
                .RecordReport()
                .Then(context => context.Saga.Reason = $"Cleanup of the source failed after switchover: {context.Message.Reason}")
                .Activity(x => x.OfInstanceType<ReleaseVmActivity>())
                .RecordAndPublish(saga => saga.Failure())
                .TransitionTo(Failed));

        // Compensation: anything that fails before the switchover is undone; the VM keeps running on its source.
        During(Preparing, PreCopying, SwitchingOver,
            When(StepFailed)
                .RecordReport()
                .Then(context => context.Saga.Record(
                    context.Saga.BeginRollback($"{context.Message.Step} failed: {context.Message.Reason}", cancelled: false)))
                .SendToWorker(saga => saga.SourceHost, saga => new AbortTransfer(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost))
                .TransitionTo(RollingBack));

        During(Preparing, PreCopying,
            When(Cancel)
                .Then(context =>
                {
                    context.Saga.CancelRequestedBy = context.Message.RequestedBy;
                    context.Saga.Record(context.Saga.BeginRollback(context.Message.Reason ?? "Cancelled by request.", cancelled: true));
                })
                .SendToWorker(saga => saga.SourceHost, saga => new AbortTransfer(saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost))
                .TransitionTo(RollingBack));

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
            When(TargetDestroyed)
                .RecordReport()
                .Activity(x => x.OfInstanceType<ReleaseVmActivity>())
                .RecordAndPublish(saga => saga.RollbackOutcome())
                .IfElse(context => context.Saga.CancelRequested,
                    cancelled => cancelled.TransitionTo(Cancelled),
                    rolledBack => rolledBack.TransitionTo(RolledBack)));

        During(RollingBack, DestroyingTarget,
            // The abort came too late: the VM already runs on the target. Its SwitchoverCompleted report is on its way.
            When(StepFailed, context => context.Message.VmRunningOn == context.Saga.TargetHost)
                .RecordReport(),
            When(StepFailed, context => context.Message.VmRunningOn != context.Saga.TargetHost)
                .RecordReport()
                .Then(context =>
                {
                    context.Saga.Reason = $"Rollback failed ({context.Message.Step}: {context.Message.Reason}) after: {context.Saga.Reason}";
                    context.Saga.RunningOn = context.Message.VmRunningOn;
                })
                .Activity(x => x.OfInstanceType<ReleaseVmActivity>())
                .RecordAndPublish(saga => saga.Failure())
                .TransitionTo(Failed));

        During([SwitchingOver, CleaningUp, RollingBack, DestroyingTarget, .. Terminal],
            When(Cancel)
                .ThenAsync(async context =>
                {
                    var refusal = context.Saga.Refusal(context.Message);
                    context.Saga.Record(refusal);
                    await context.Publish(refusal);
                }));

        // Duplicates are normal (redelivery, a sender that retries): a second StartMigration of a known migration does nothing.
        DuringAny(Ignore(Start));
        During(Terminal,
            Ignore(TargetPrepared), Ignore(RoundCompleted), Ignore(StopAndCopyCompleted), Ignore(SwitchoverCompleted),
            Ignore(SourceCleanedUp), Ignore(StepFailed), Ignore(TransferAborted), Ignore(TargetDestroyed));
    }

    public State Preparing { get; private set; } = null!;
    public State PreCopying { get; private set; } = null!;
    public State SwitchingOver { get; private set; } = null!;
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
    public Event<TargetPrepared> TargetPrepared { get; private set; } = null!;
    public Event<PreCopyRoundCompleted> RoundCompleted { get; private set; } = null!;
    public Event<StopAndCopyCompleted> StopAndCopyCompleted { get; private set; } = null!;
    public Event<SwitchoverCompleted> SwitchoverCompleted { get; private set; } = null!;
    public Event<SourceCleanedUp> SourceCleanedUp { get; private set; } = null!;
    public Event<MigrationStepFailed> StepFailed { get; private set; } = null!;
    public Event<MigrationAborted> TransferAborted { get; private set; } = null!;
    public Event<TargetDestroyed> TargetDestroyed { get; private set; } = null!;

    void CorrelateWorkerReport<T>(System.Linq.Expressions.Expression<Func<Event<T>>> property, Func<T, Guid> migrationId)
        where T : class =>
        Event(property, x =>
        {
            x.CorrelateById(m => migrationId(m.Message));
            // A report about a migration this orchestrator never started is logged and dropped, not retried forever.
            x.OnMissingInstance(m => m.Discard());
        });
}
