using Orchestrator.Contracts;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// The events the migration records on its stream (and publishes, for the terminal ones and refusals), each made from the
/// saga as it stands when the state machine records it. They change nothing on the saga.
/// </summary>
public static class MigrationEvents
{
    public static MigrationRequested Requested(this MigrationState saga) => new(
        saga.CorrelationId, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Hypervisor,
        saga.Strategy, saga.Policy.ToRecorded(), saga.RequestedBy, saga.RequestedAt, saga.PolicyName, Deadline: saga.Deadline);

    public static MigrationAdmitted Admitted(this MigrationState saga) => new(saga.CorrelationId, saga.Epoch, DateTimeOffset.UtcNow);

    public static MigrationRejected Rejection(this MigrationState saga) => new(
        saga.CorrelationId, string.IsNullOrEmpty(saga.VmId) ? null : saga.VmId, saga.RejectionCode ?? RejectionCodes.InvalidCommand,
        saga.Reason ?? "Rejected.", DateTimeOffset.UtcNow);

    /// <summary>What the convergence policy (or an operator's force-complete) changed, with the limits now in force.</summary>
    public static MigrationPolicyAdjusted PolicyAdjusted(this MigrationState saga, string action, string reason) => new(
        saga.CorrelationId, action, reason, saga.Convergence?.DowntimeLimitMs ?? 0, saga.Convergence?.ThrottlePercent ?? 0, DateTimeOffset.UtcNow);

    public static MigrationCompleted Completion(this MigrationState saga) => new(
        saga.CorrelationId, saga.VmId, saga.RunningOn ?? saga.TargetHost, saga.DowntimeMs,
        (DateTimeOffset.UtcNow - saga.RequestedAt).TotalMilliseconds, DateTimeOffset.UtcNow);

    public static MigrationFailed Failure(this MigrationState saga) => new(
        saga.CorrelationId, saga.Reason ?? "Failed.", saga.RunningOn, DateTimeOffset.UtcNow);

    public static MigrationRollingBack RollingBack(this MigrationState saga) => new(
        saga.CorrelationId, saga.Reason ?? "Rolling back.", saga.CancelRequested, DateTimeOffset.UtcNow);

    /// <summary>The terminal event of a rollback: cancelled when an operator asked for it, rolled back after a failure.</summary>
    public static object RollbackOutcome(this MigrationState saga) => saga.CancelRequested
        ? new MigrationCancelled(saga.CorrelationId, saga.Reason ?? "Cancelled.", saga.SourceHost, saga.CancelRequestedBy, DateTimeOffset.UtcNow)
        : new MigrationRolledBack(saga.CorrelationId, saga.Reason ?? "Rolled back.", saga.SourceHost, DateTimeOffset.UtcNow);

    public static MessageSetAside SetAside(this MigrationState saga, MessageGivenUp message) => new(
        saga.CorrelationId, message.MessageId, message.Source, message.MessageType, saga.HostOf(message.Queue), message.Reason, DateTimeOffset.UtcNow);

    public static MessageSetAside StartSetAside(this MigrationState saga, StartGivenUp message) => new(
        saga.CorrelationId, message.MessageId, DeadLetterSources.Input, nameof(StartMigration), null, message.Reason, DateTimeOffset.UtcNow);

    /// <summary>An operator's command that was set aside instead of applied: refused, with why.</summary>
    public static CommandRefused CommandSetAside(this MigrationState saga, string command, string reason) => new(
        saga.CorrelationId, command, reason, DateTimeOffset.UtcNow);

    /// <summary>The host whose worker listens on <paramref name="queue"/>; null for any other queue.</summary>
    public static string? HostOf(this MigrationState saga, string? queue) =>
        queue == QueueNames.Worker(saga.Hypervisor, saga.SourceHost) ? saga.SourceHost
        : queue == QueueNames.Worker(saga.Hypervisor, saga.TargetHost) ? saga.TargetHost
        : null;

    public static CommandRefused CancelRefusal(this MigrationState saga) => new(
        saga.CorrelationId, "cancel",
        saga.CurrentState == nameof(MigrationStateMachine.PostCopying)
            ? "Post-copy has started: the VM runs on the target while its memory still comes from the source, so neither "
              + "host alone holds it and cancelling would lose it. Wait for the migration to finish."
            : $"Migration is {saga.CurrentState}: cancel applies only before the switchover (Queued, Checking, Preparing, PreCopying).",
        DateTimeOffset.UtcNow);

    public static CommandRefused ForceCompleteRefusal(this MigrationState saga) => new(
        saga.CorrelationId, "force-complete",
        $"Migration is {saga.CurrentState}: force-complete applies only while pre-copy runs (PreCopying).",
        DateTimeOffset.UtcNow);
}
