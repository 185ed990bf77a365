using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Workflows.Migration;

/// <summary>The states a migration can be in, the messages it reacts to, and how each finds its migration.</summary>
public sealed partial class MigrationStateMachine
{
    public State Queued { get; private set; } = null!;
    public State Checking { get; private set; } = null!;
    public State Preparing { get; private set; } = null!;
    public State PreCopying { get; private set; } = null!;
    public State SwitchingOver { get; private set; } = null!;
    public State PostCopying { get; private set; } = null!;
    public State CleaningUp { get; private set; } = null!;
    public State RollingBack { get; private set; } = null!;
    public State DestroyingTarget { get; private set; } = null!;
    public State Reconciling { get; private set; } = null!;
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
    public Event<RecoverMigration> Recover { get; private set; } = null!;
    public Event<AdmitMigration> Admitted { get; private set; } = null!;
    public Event<ShareLink> LinkShared { get; private set; } = null!;
    public Event<PreflightPassed> PreflightPassed { get; private set; } = null!;
    public Event<PreflightFailed> PreflightFailed { get; private set; } = null!;
    public Event<TargetPrepared> TargetPrepared { get; private set; } = null!;
    public Event<DiskMirrorStarted> DiskMirrorStarted { get; private set; } = null!;
    public Event<DiskMirrorProgress> DiskMirrorProgress { get; private set; } = null!;
    public Event<DiskMirrorReady> DiskMirrorReady { get; private set; } = null!;
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
    public Event<VmLocated> Located { get; private set; } = null!;
    public Event<StepHeartbeat> Heartbeat { get; private set; } = null!;
    public Event<StepTimedOut> StepTimeout { get; private set; } = null!;
    public Event<CompletionTimedOut> CompletionTimeout { get; private set; } = null!;
    public Event<ReconcileMigration> Reconcile { get; private set; } = null!;
    public Event<MessageGivenUp> GivenUp { get; private set; } = null!;
    public Event<StartGivenUp> StartSetAside { get; private set; } = null!;

    void CorrelateEvents()
    {
        Event(() => Start, x => x.CorrelateById(m => m.Message.MigrationId));
        // Operator commands, worker reports and timers about a migration this orchestrator does not know are dropped.
        Correlate(() => Cancel, m => m.MigrationId);
        Correlate(() => ForceComplete, m => m.MigrationId);
        Correlate(() => Recover, m => m.MigrationId);
        Correlate(() => Admitted, m => m.MigrationId);
        Correlate(() => LinkShared, m => m.MigrationId);
        Correlate(() => PreflightPassed, m => m.MigrationId);
        Correlate(() => PreflightFailed, m => m.MigrationId);
        Correlate(() => TargetPrepared, m => m.MigrationId);
        Correlate(() => DiskMirrorStarted, m => m.MigrationId);
        Correlate(() => DiskMirrorProgress, m => m.MigrationId);
        Correlate(() => DiskMirrorReady, m => m.MigrationId);
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
        Correlate(() => Located, m => m.MigrationId);
        Correlate(() => Heartbeat, m => m.MigrationId);
        Correlate(() => StepTimeout, m => m.MigrationId);
        Correlate(() => CompletionTimeout, m => m.MigrationId);
        Correlate(() => Reconcile, m => m.MigrationId);
        Correlate(() => GivenUp, m => m.MigrationId);
        // A start that could not be stored has no instance yet: its rejection creates one.
        Event(() => StartSetAside, x => x.CorrelateById(m => m.Message.MigrationId));
    }

    void Correlate<T>(System.Linq.Expressions.Expression<Func<Event<T>>> property, Func<T, Guid> migrationId)
        where T : class =>
        Event(property, x =>
        {
            x.CorrelateById(m => migrationId(m.Message));
            x.OnMissingInstance(m => m.Discard());
        });
}
