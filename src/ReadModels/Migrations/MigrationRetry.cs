using Orchestrator.Contracts;

namespace Orchestrator.ReadModels.Migrations;

/// <summary>A retry: a new migration that asks again what an ended one asked, when the VM is known to be on its source.</summary>
public static class MigrationRetry
{
    /// <summary>Why <paramref name="summary"/> cannot be retried; null when it can.</summary>
    public static string? Refusal(MigrationSummary summary) => summary.State switch
    {
        MigrationStates.Completed => "The migration completed: the VM already runs on its target.",
        MigrationStates.Rejected when summary.RejectionCode == RejectionCodes.InvalidCommand =>
            $"The command itself was invalid ({summary.Reason}): start a corrected migration instead.",
        MigrationStates.RolledBack or MigrationStates.Cancelled or MigrationStates.Rejected => null,
        MigrationStates.Failed when summary.RunningOn == summary.SourceHost => null,
        MigrationStates.Failed => $"The migration failed and the VM is not known to run on its source ({summary.RunningOn ?? "unknown"}): recover it first.",
        _ => $"The migration is {summary.State}: only a migration that ended without moving the VM can be retried.",
    };

    public static StartMigration Command(MigrationSummary summary, Guid migrationId, string requestedBy) => new(
        migrationId, summary.VmId!, summary.SourceHost!, summary.TargetHost!, summary.Hypervisor!, summary.Strategy, summary.Policy, requestedBy);
}
