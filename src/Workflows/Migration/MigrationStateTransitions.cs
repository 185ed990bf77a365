using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Migration;

/// <summary>What the state machine does to its state, and the events each step produces.</summary>
public static class MigrationStateTransitions
{
    public static void Accept(this MigrationState saga, StartMigration command, MigrationPolicyOptions policies)
    {
        var named = policies.For(command);
        saga.PolicyName = named?.Name;
        saga.VmId = command.VmId ?? string.Empty;
        saga.SourceHost = command.SourceHost ?? string.Empty;
        saga.TargetHost = command.TargetHost ?? string.Empty;
        saga.Hypervisor = command.Hypervisor ?? string.Empty;
        saga.Policy = MigrationPolicyDefaults.Effective(command.Policy, named?.Policy);
        saga.Strategy = MigrationPolicyDefaults.EffectiveStrategy(command.Strategy, saga.Policy);
        saga.RequestedBy = command.RequestedBy;
        saga.RequestedAt = DateTimeOffset.UtcNow;
        saga.RunningOn = saga.SourceHost;

        var problems = StartMigrationValidator.Validate(command);
        if (problems.Count > 0)
        {
            saga.RejectionCode = RejectionCodes.InvalidCommand;
            saga.Reason = string.Join(" ", problems);
        }
    }

    public static void Request(this MigrationState saga) =>
        saga.Record(new MigrationRequested(saga.CorrelationId, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Hypervisor,
            saga.Strategy, saga.Policy, saga.RequestedBy, saga.RequestedAt, saga.PolicyName));

    public static void Admit(this MigrationState saga)
    {
        saga.Epoch = 1;
        saga.Queued = false;
        saga.Record(new MigrationAdmitted(saga.CorrelationId, saga.Epoch, DateTimeOffset.UtcNow));
    }

    /// <summary>The pre-flight check passed: what the source's worker said of the VM, for the target and the policy.</summary>
    public static void Checked(this MigrationState saga, PreflightPassed passed)
    {
        saga.MemoryBytes = passed.MemoryBytes;
        saga.VmDefinition = passed.VmDefinition;
    }

    /// <summary>To the target's worker: get a destination ready, started from the VM as the source described it.</summary>
    public static PrepareTarget PrepareTargetCommand(this MigrationState saga) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Hypervisor,
        saga.Policy.MultifdChannels ?? 0, saga.VmDefinition);

    /// <summary>To the source's worker: move the VM to where the target said its destination listens.</summary>
    public static BeginTransfer BeginTransferCommand(this MigrationState saga) => new(
        saga.CorrelationId, saga.Epoch, saga.VmId, saga.SourceHost, saga.TargetHost, saga.Strategy,
        saga.InitialDowntimeLimit(),
        saga.Policy.MaxBandwidthMiBps ?? MigrationPolicyDefaults.MaxBandwidthMiBps,
        saga.Policy.AllowAutoConverge == true,
        saga.Policy.AllowPostCopy == true,
        saga.Policy.MultifdChannels ?? 0,
        saga.Policy.XbzrleCacheMiB ?? 0,
        saga.IncomingUri);

    /// <summary>The pre-flight check said no: the migration ends Rejected, nothing having been done to any host.</summary>
    public static void RejectAfterAdmission(this MigrationState saga, string reason)
    {
        saga.RejectionCode = RejectionCodes.PreflightFailed;
        saga.Reason = reason;
    }

    public static MigrationRejected Rejection(this MigrationState saga) => new(
        saga.CorrelationId, string.IsNullOrEmpty(saga.VmId) ? null : saga.VmId, saga.RejectionCode ?? RejectionCodes.InvalidCommand,
        saga.Reason ?? "Rejected.", DateTimeOffset.UtcNow);

    public static MigrationCompleted Completion(this MigrationState saga) => new(
        saga.CorrelationId, saga.VmId, saga.RunningOn ?? saga.TargetHost, saga.DowntimeMs,
        (DateTimeOffset.UtcNow - saga.RequestedAt).TotalMilliseconds, DateTimeOffset.UtcNow);

    public static MigrationFailed Failure(this MigrationState saga) => new(
        saga.CorrelationId, saga.Reason ?? "Failed.", saga.RunningOn, DateTimeOffset.UtcNow);

    public static MigrationRollingBack BeginRollback(this MigrationState saga, string reason, bool cancelled)
    {
        saga.Reason = reason;
        saga.CancelRequested = cancelled;
        return new MigrationRollingBack(saga.CorrelationId, reason, cancelled, DateTimeOffset.UtcNow);
    }

    /// <summary>The terminal event of a rollback: cancelled when an operator asked for it, rolled back after a failure.</summary>
    public static object RollbackOutcome(this MigrationState saga) => saga.CancelRequested
        ? new MigrationCancelled(saga.CorrelationId, saga.Reason ?? "Cancelled.", saga.SourceHost, saga.CancelRequestedBy, DateTimeOffset.UtcNow)
        : new MigrationRolledBack(saga.CorrelationId, saga.Reason ?? "Rolled back.", saga.SourceHost, DateTimeOffset.UtcNow);

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

    /// <summary>The steps a rollback itself runs; only their failure fails the rollback.</summary>
    public static bool IsRollbackStep(this MigrationState saga, MigrationStepFailed failure) =>
        failure.Step is MigrationSteps.AbortTransfer or MigrationSteps.DestroyTarget;

    /// <summary>A failed policy step (adjust, switch to post-copy) leaves the transfer running; it does not fail the migration.</summary>
    public static bool IsOnlyAPolicyStep(this MigrationState saga, MigrationStepFailed failure) =>
        failure.Step is MigrationSteps.Adjust or MigrationSteps.SwitchToPostCopy;
}
