using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Recovery by reconciliation: on <see cref="RecoverMigration"/> the migration takes a new fencing epoch, asks the workers
/// of both hosts where the VM runs, records their answers as evidence and goes where that truth leads: the target runs
/// the VM → the source is cleaned up and it completes; the source holds it whole → rolled back; nobody → Failed with the
/// VM lost. It never guesses: when a host does not answer and no host runs the VM, nothing is decided.
/// </summary>
public sealed partial class MigrationStateMachine
{
    /// <summary>The states a recovery can start from: some host may have been touched, and the migration did not end cleanly.</summary>
    IReadOnlyList<State> InFlight => [Preparing, PreCopying, SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget];

    IReadOnlyList<State> Recoverable => [Preparing, PreCopying, SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget, Failed];

    void ConfigureRecovery(TimeoutOptions timeouts)
    {
        During(Recoverable,
            AskBothHosts(When(Recover)
                .Then(context => context.Saga.Record(context.Saga.BeginRecovery(context.Message.RequestedBy))))
                .TransitionTo(Reconciling));
        During([Queued, Checking, Reconciling, Completed, RolledBack, Cancelled, Rejected],
            When(Recover).RefuseWith(saga => saga.RecoverRefusal()));

        // The start-up check: ask the hosts without leaving the state; act only when they contradict it.
        During(InFlight,
            AskBothHosts(When(Reconcile)
                .Then(context => context.Saga.BeginProbe(context.Message.Reason))),
            When(Located, context => context.Saga.Probing && context.Saga.IsCurrent(context.Message))
                .RecordReport()
                .Then(context => context.Saga.Note(context.Message))
                .If(context => context.Saga.HasBothAnswers(), judged => judged
                    .IfElse(context => context.Saga.AgreesWithHosts(),
                        agrees => agrees.Then(context => context.Saga.Record(context.Saga.Confirm())),
                        contradicted => Decide(contradicted
                            .Then(context => context.Saga.Record(context.Saga.BeginRecovery(context.Saga.RecoveryRequestedBy))), _ => true))));

        // Reconciling (entered on Recover): the hosts have a while to answer.
        Arm(Reconciling, _ => timeouts.Locate);
        During(Reconciling,
            Decide(When(Located, context => context.Saga.IsCurrent(context.Message))
                    .RecordReport()
                    .Then(context => context.Saga.Note(context.Message)),
                context => context.Saga.HasBothAnswers()),
            // A host that does not answer in time is unknown; the decision is made with what is known.
            Decide(When(StepTimeout, IsCurrent)
                    .Then(context => context.Saga.GiveUpWaitingForAnswers()),
                _ => true),
            // Reports of the earlier incarnation still arrive; they are history, the hosts' answers decide.
            When(DiskMirrorStarted).RecordReport(),
            When(DiskMirrorProgress).RecordReport(),
            When(DiskMirrorReady).RecordReport(),
            When(RoundCompleted).RecordReport(),
            When(StopAndCopyCompleted).RecordStopAndCopy(),
            When(SwitchoverCompleted).RecordReport(),
            When(PostCopyStarted).RecordReport(),
            When(PostCopyRecovered).RecordReport(),
            When(PostCopyCompleted).RecordReport(),
            When(StepFailed).RecordReport(),
            When(TransferAborted).RecordReport(),
            When(TargetDestroyed).RecordReport(),
            When(SourceCleanedUp).RecordReport());
    }

    /// <summary>The truth query: the workers of both hosts say what their hypervisors know of the VM.</summary>
    static EventActivityBinder<MigrationState, T> AskBothHosts<T>(EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder
            .SendToWorker(saga => saga.SourceHost, saga => saga.LocateVm(saga.SourceHost))
            .SendToWorker(saga => saga.TargetHost, saga => saga.LocateVm(saga.TargetHost));

    /// <summary>Once <paramref name="ready"/>, judges the answers and drives the migration where they lead.</summary>
    EventActivityBinder<MigrationState, T> Decide<T>(EventActivityBinder<MigrationState, T> binder, Func<BehaviorContext<MigrationState, T>, bool> ready)
        where T : class =>
        binder.If(context => ready(context), decide => decide
            .Then(context => context.Saga.Record(context.Saga.Reconcile()))
            .IfElse(context => context.Saga.Verdict == RecoveryVerdicts.Finish,
                CleanUpSource,
                other => other.IfElse(context => context.Saga.Verdict == RecoveryVerdicts.RollBack,
                    // The verdict set the reason; the cancellation asked for before, if any, still decides how it ends.
                    RollBack,
                    // Lost or undecided: the reason, with the evidence, was set by the verdict.
                    failed => FailWith(failed, context => context.Saga.Reason!))));
}
