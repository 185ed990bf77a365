using System.Text.Json.Serialization;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Persistence;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Migration;

/// <summary>The saga state of one migration, stored as a Marten document beside the migration's event stream.</summary>
public sealed class MigrationState : SagaStateMachineInstance, IRecordEvents, IHaveTimers, IHaveOutgoingMessages, IHaveCommitWork
{
    readonly List<object> _pendingEvents = [];
    readonly List<Func<Marten.IDocumentSession, CancellationToken, Task>> _pendingCommitWork = [];
    readonly List<OutboxMessage> _pendingMessages = [];
    readonly List<(string Id, MigrationTimer? Timer)> _pendingTimers = [];
    readonly List<(string Phase, TimeSpan Spent)> _endedPhases = [];

    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = string.Empty;

    public string VmId { get; set; } = string.Empty;
    public string SourceHost { get; set; } = string.Empty;
    public string TargetHost { get; set; } = string.Empty;
    public string Hypervisor { get; set; } = string.Empty;
    public string Strategy { get; set; } = MigrationStrategies.Auto;

    /// <summary>The limits in force, built once when the migration was accepted (<see cref="EffectivePolicy.From"/>).</summary>
    public EffectivePolicy Policy { get; set; } = EffectivePolicy.Defaults;

    public string? RequestedBy { get; set; }

    /// <summary>The named policy that supplied the values the sender left out; null when none selected the migration.</summary>
    public string? PolicyName { get; set; }
    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>The fencing epoch carried by every command sent to workers for this migration.</summary>
    public int Epoch { get; set; }

    /// <summary>The host the VM runs on as far as the workflow knows; moves once, at switchover.</summary>
    public string? RunningOn { get; set; }

    public double DowntimeMs { get; set; }

    /// <summary>The number of the last numbered worker report applied (<see cref="Contracts.Workers.ISequencedReport"/>).</summary>
    public int LastReportSequence { get; set; }

    /// <summary>True once the stop-and-copy report is recorded (it carries <see cref="DowntimeMs"/>).</summary>
    public bool StoppedAndCopied { get; set; }

    /// <summary>True when the source confirmed its cleanup while the stop-and-copy report was still on its way.</summary>
    public bool SourceCleaned { get; set; }

    /// <summary>
    /// True when the switchover report came before the stop-and-copy report (which every pre-copy transfer sends first,
    /// but which can be overtaken): the completion waits for it, up to the cleanup timeout. Post-copy and recovery never
    /// wait (a recovery's worker may be gone with what it knew).
    /// </summary>
    public bool AwaitsStopAndCopy { get; set; }

    /// <summary>Why the migration was rejected, rolled back or cancelled; null while all goes well.</summary>
    public string? Reason { get; set; }

    public string? RejectionCode { get; set; }

    /// <summary>True when admission put the migration in the queue instead of giving it a slot.</summary>
    public bool Queued { get; set; }

    /// <summary>True while the rollback under way was asked for by an operator (ends Cancelled, not RolledBack).</summary>
    public bool CancelRequested { get; set; }

    public string? CancelRequestedBy { get; set; }

    /// <summary>The token of the armed step timer; a timer that fires with another token is stale and ignored.</summary>
    public Guid? StepTimeoutToken { get; set; }

    public Guid? CompletionTimeoutToken { get; set; }

    /// <summary>How often the current idempotent command (cleanup, abort, destroy) has been sent.</summary>
    public int StepAttempts { get; set; }

    /// <summary>The VM's memory size, learnt from the first pass (which sends all of it).</summary>
    public long MemoryBytes { get; set; }

    /// <summary>The VM as the source's worker described it at the pre-flight check (QEMU: its definition), for the target's worker.</summary>
    public string? VmDefinition { get; set; }

    /// <summary>Where the target's destination listens for the migration stream, as its worker reported; sent to the source.</summary>
    public string? IncomingUri { get; set; }

    /// <summary>The VM's local disks together, as the pre-flight check found them (0: none): mirrored before the memory moves.</summary>
    public long DiskBytes { get; set; }

    /// <summary>Where the target exports the VM's disks for the mirror, as its worker reported; sent to the source.</summary>
    public string? DiskExportUri { get; set; }

    /// <summary>What the convergence policy engine remembers between rounds; null until the transfer begins.</summary>
    public ConvergenceState? Convergence { get; set; }

    /// <summary>Where the downtime ramp starts when the prediction foresaw where it ends; null: at the ramp's first step.</summary>
    public int? FirstDowntimeLimitMs { get; set; }

    /// <summary>What the VM's earlier migrations taught of its dirtying (set by the prediction); null: none to learn from.</summary>
    public Prediction.DirtyBehaviour? LearnedBehaviour { get; set; }

    /// <summary>This migration's pre-copy rounds as passes, for the forecast refreshed after each (<see cref="Prediction.RefreshForecastActivity"/>).</summary>
    public List<Prediction.PassObservation> Passes { get; set; } = [];

    /// <summary>The pre-copy rounds' time (bytes over bandwidth) and bytes so far.</summary>
    public double TransferSeconds { get; set; }

    public long TransferBytes { get; set; }

    /// <summary>When the migration must have ended (its command's deadline); null: no deadline.</summary>
    public DateTimeOffset? Deadline { get; set; }

    /// <summary>The bandwidth the link budget gives the transfer (the links scheduled); null: the policy's maximum.</summary>
    public int? LinkShareMiBps { get; set; }

    /// <summary>The state a recovery started from; null until one starts.</summary>
    public string? RecoveringFrom { get; set; }

    public string? RecoveryRequestedBy { get; set; }

    /// <summary>What the source host's worker answered to the truth query (<see cref="VmPresences"/>), and in its own words.</summary>
    public string? SourcePresence { get; set; }

    public string? SourceEvidence { get; set; }

    public string? TargetPresence { get; set; }

    public string? TargetEvidence { get; set; }

    /// <summary>True while a start-up check waits for the hosts' answers (the state does not change meanwhile).</summary>
    public bool Probing { get; set; }

    /// <summary>The last recovery's verdict (<see cref="RecoveryVerdicts"/>).</summary>
    public string? Verdict { get; set; }

    /// <summary>The decision of the round being applied, for the activities that carry it out.</summary>
    [JsonIgnore]
    public ConvergenceDecision? Decision { get; set; }

    /// <summary>Events recorded by the transition being applied; the saga repository appends them to the stream.</summary>
    [JsonIgnore]
    public IReadOnlyList<object> PendingEvents => _pendingEvents;

    public void Record(object @event) => _pendingEvents.Add(@event);

    public void ClearPendingEvents() => _pendingEvents.Clear();

    /// <summary>When the migration entered its current state (null in sagas stored before this was kept).</summary>
    public DateTimeOffset? StateEnteredAt { get; set; }

    /// <summary>The transition being applied leaves <paramref name="phase"/> after <paramref name="spent"/> in it.</summary>
    public void EndPhase(string phase, TimeSpan spent) => _endedPhases.Add((phase, spent));

    public void Committed(IReadOnlyList<object> events)
    {
        MigrationMetrics.Committed(this, events, _endedPhases);
        _endedPhases.Clear();
    }

    [JsonIgnore]
    public IReadOnlyList<(string Id, MigrationTimer? Timer)> PendingTimers => _pendingTimers;

    /// <summary>Arms (or re-arms, replacing the previous one) the timer of <paramref name="kind"/> to fire after <paramref name="delay"/>.</summary>
    public void ArmTimer(string kind, TimeSpan delay)
    {
        var token = Guid.NewGuid();
        if (kind == TimerKinds.Completion)
            CompletionTimeoutToken = token;
        else
            StepTimeoutToken = token;
        var id = MigrationTimer.IdFor(CorrelationId, kind);
        var now = DateTimeOffset.UtcNow;
        _pendingTimers.Add((id, new MigrationTimer
        {
            Id = id, MigrationId = CorrelationId, Kind = kind, Token = token, ArmedAt = now, DueAt = now + delay, State = CurrentState,
        }));
    }

    /// <summary>Disarms every timer: the migration has ended.</summary>
    public void DisarmTimers()
    {
        DisarmTimer(TimerKinds.Step);
        DisarmTimer(TimerKinds.Completion);
    }

    /// <summary>Disarms the timer of <paramref name="kind"/>: what it bounded is over.</summary>
    public void DisarmTimer(string kind)
    {
        if (kind == TimerKinds.Completion)
            CompletionTimeoutToken = null;
        else
            StepTimeoutToken = null;
        _pendingTimers.Add((MigrationTimer.IdFor(CorrelationId, kind), null));
    }

    public void ClearPendingTimers() => _pendingTimers.Clear();

    [JsonIgnore]
    public IReadOnlyList<OutboxMessage> PendingMessages => _pendingMessages;

    /// <summary>
    /// Sends a message through the outbox: stored with the transition, delivered after its commit, correlated with this
    /// migration or with <paramref name="correlateWith"/> (a message for another migration).
    /// </summary>
    public void SendTo(string queue, object message, Guid? correlateWith = null) =>
        _pendingMessages.Add(OutboxMessages.Create(correlateWith ?? CorrelationId, queue, message));

    /// <summary>Publishes an integration event through the outbox.</summary>
    public void Publish(object message) => _pendingMessages.Add(OutboxMessages.Create(CorrelationId, null, message));

    public void ClearPendingMessages() => _pendingMessages.Clear();

    [JsonIgnore]
    public IReadOnlyList<Func<Marten.IDocumentSession, CancellationToken, Task>> PendingCommitWork => _pendingCommitWork;

    /// <summary>Work this transition leaves for the moment before its commit, in its transaction (<see cref="IHaveCommitWork"/>).</summary>
    public void AtCommit(Func<Marten.IDocumentSession, CancellationToken, Task> work) => _pendingCommitWork.Add(work);

    public void ClearPendingCommitWork() => _pendingCommitWork.Clear();
}
